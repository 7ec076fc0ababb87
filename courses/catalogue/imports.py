"""Staff import: an organisation manager's CSV or XLSX file of their people, enrolled all or nothing.

Files come as Excel saves them here: UTF-8 with or without a BOM, Windows-1251 (Cyrillic) or
Windows-1250 (Central European Latin), separated by commas, semicolons or tabs, with headers in the
manager's own language. ``read_table`` detects all of that; ``guess_mapping`` proposes which column
holds which field (remembered per organisation and header, ``ImportMapping``); ``import_staff``
validates every row first and then creates accounts, memberships and enrolments in one transaction,
or nothing at all. Moodle's "upload users" CSV is recognised by its header.
"""

import csv
import hashlib
import io
import json
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from lms import access, audit
from lms.auth.services import normalise_phone
from lms.database import begin_write, utcnow
from lms.extensions import db
from lms.models import Membership, Organisation, User
from lms.plugins import hook
from lms.tasks import enqueue

from . import services
from .models import Cohort, Enrolment, ImportMapping
from .services import CatalogueError

FIELDS = ("first_name", "last_name", "email", "username", "phone", "cohort", "ignore")
FIELD_LABELS = {
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "email": _l("E-mail"),
    "username": _l("Username"),
    "phone": _l("Phone"),
    "cohort": _l("Cohort or group"),
    "ignore": _l("Ignore this column"),
}
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_ROWS = 5000
# Rows are checked, written and audited in bulk, about 1.5 ms of CPU each (1,000 rows: 1.5-3 s on SQLite,
# 3-5 s on PostgreSQL, on a loaded two-core machine): a page waits for a thousand, bigger files (up to
# DEFAULT_MAX_ROWS) go to a task.
DEFAULT_SYNC_ROWS = 1000
PREVIEW_ROWS = 5
UPLOAD_LIFETIME = timedelta(days=1)
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Header words as people write them (mk, sr Cyrillic and Latin, sq, sl, ro, en), compared after
# ``_header_key`` (lower case, letters and digits only).
HEADER_WORDS = {
    "first_name": {"име", "ime", "emri", "emër", "emer", "prenume", "firstname", "givenname", "first", "forename",
                   "имe"},
    "last_name": {"презиме", "prezime", "priimek", "mbiemri", "mbiemër", "mbiemer", "nume", "numedefamilie",
                  "lastname", "surname", "familyname", "last"},
    "email": {"епошта", "epošta", "eposta", "email", "emailadresa", "emailaddress", "emailadresë", "емаил",
              "електронскапошта", "elektronskapošta", "postaelektronike", "adresadeemail", "mail", "емаиладреса",
              "епоштаадреса"},
    "username": {"username", "корисничкоиме", "korisničkoime", "korisnickoime", "uporabniškoime",
                 "uporabniskoime", "emërpërdoruesi", "perdoruesi", "përdoruesi", "numedeutilizator", "utilizator",
                 "login", "корисник", "korisnik"},
    "phone": {"телефон", "telefon", "telefoni", "phone", "telephone", "tel", "mobile", "mobilen", "мобилен",
              "мобилни", "mobilni", "mobitel", "celular", "gsm", "phone1", "phonenumber"},
    "cohort": {"група", "grupa", "skupina", "grupi", "grup", "grupul", "group", "cohort", "кохорта", "kohorta",
               "obuka", "обука", "курс", "kurs", "tečaj", "tecaj", "curs", "kursi", "course", "group1"},
}  # fmt: skip
MOODLE_REQUIRED = {"username", "firstname", "lastname"}
_MOODLE_COURSE = re.compile(r"^course(\d+)$")
MOODLE_FIELDS = {"username": "username", "firstname": "first_name", "lastname": "last_name", "email": "email",
                 "phone1": "phone", "phone2": "ignore"}  # fmt: skip


class ImportFileError(CatalogueError):
    """A file that cannot be read as a staff list; the message says why in the user's language."""


@dataclass
class Table:
    """A file read into rows of text, with what was detected about it."""

    header: list[str]
    rows: list[list[str]]
    encoding: str  # "utf-8", "utf-8-sig", "cp1251", "cp1250", "utf-16" or "xlsx"
    delimiter: str | None  # None for XLSX
    moodle: bool = False

    @property
    def signature(self) -> str:
        """SHA-256 of the normalised header: the key under which a mapping is remembered."""
        return hashlib.sha256("\x1f".join(_header_key(h) for h in self.header).encode()).hexdigest()


@dataclass
class RowError:
    """One bad row: its number as a spreadsheet shows it (the header is row 1) and why."""

    row: int
    message: str


@dataclass
class ImportResult:
    """What an import did (``ok``) or why it did nothing (``errors``, every bad row)."""

    ok: bool
    errors: list[RowError] = field(default_factory=list)
    created: list[User] = field(default_factory=list)
    matched: list[User] = field(default_factory=list)
    enrolled: int = 0
    waitlisted: int = 0
    already_enrolled: int = 0
    invitation_task: object = None
    without_email: list[User] = field(default_factory=list)


# --- reading files -----------------------------------------------------------------------------------


def _header_key(text: str) -> str:
    return "".join(ch for ch in (text or "").casefold() if ch.isalnum())


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _script_consistency(text: str) -> tuple[int, int]:
    """(words written wholly in Cyrillic, words mixing Cyrillic and Latin letters) in a decoded text."""
    pure = mixed = 0
    for word in re.findall(r"[^\W\d_]+", text):
        cyrillic = sum(1 for ch in word if _is_cyrillic(ch))
        if cyrillic == len(word):
            pure += 1
        elif cyrillic:
            mixed += 1
    return pure, mixed


def detect_encoding(data: bytes) -> str:
    """How a text file was saved: BOM, else strict UTF-8, else Windows-1251 or Windows-1250.

    The two Windows code pages decode every byte to some letter, so the choice is made on the
    letters: Cyrillic text read as Windows-1251 gives words wholly in Cyrillic, while Latin text
    with č ć š ž đ read as Windows-1251 gives words mixing Latin and Cyrillic letters.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pure, mixed = _script_consistency(data.decode("cp1251", errors="replace"))
        return "cp1251" if pure > mixed else "cp1250"
    return "utf-8"


def detect_delimiter(text: str) -> str:
    """Comma, semicolon or tab: ``csv.Sniffer`` on the first lines, else the most frequent in the header line."""
    lines = [line for line in text.splitlines() if line.strip()][:10]
    sample = "\n".join(lines)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = None
    header = lines[0] if lines else ""
    if delimiter is None or header.count(delimiter) == 0:
        counts = {candidate: header.count(candidate) for candidate in (";", ",", "\t")}
        delimiter = max(counts, key=counts.get) if any(counts.values()) else ","
    return delimiter


def _limits() -> tuple[int, int]:
    config = current_app.config
    return config.get("CATALOGUE_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES), config.get(
        "CATALOGUE_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS
    )


def _clean(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number typed into Excel comes back as 38970123456.0
    return str(value).replace("\x00", "").strip()


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as error:
        raise ImportFileError(
            _("This file is not a spreadsheet. Save it as CSV or Excel (.xlsx) and try again.")
        ) from error
    try:
        sheet = workbook.worksheets[0]
        _max_bytes, max_rows = _limits()
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append([_clean(cell) for cell in row])
            if len(rows) > max_rows + 1:
                break
        return rows
    finally:
        workbook.close()


def read_table(data: bytes) -> Table:
    """Read a CSV or XLSX staff file; raises ``ImportFileError`` for an empty, binary, oversized or unreadable file."""
    max_bytes, max_rows = _limits()
    if not data or not data.strip():
        raise ImportFileError(_("The file is empty."))
    if len(data) > max_bytes:
        raise ImportFileError(_("The file is too large: the limit is %(mb)s MB.", mb=max_bytes // (1024 * 1024)))
    if data.startswith(b"PK\x03\x04"):
        rows, encoding, delimiter = _read_xlsx(data), "xlsx", None
    else:
        encoding = detect_encoding(data)
        if encoding != "utf-16" and b"\x00" in data[:8192]:
            raise ImportFileError(_("This file is not a CSV or Excel file. Save it as CSV or Excel (.xlsx)."))
        text = data.decode(encoding, errors="replace")
        if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text[:8192]):
            raise ImportFileError(_("This file is not a CSV or Excel file. Save it as CSV or Excel (.xlsx)."))
        delimiter = detect_delimiter(text)
        try:
            rows = [[_clean(cell) for cell in row] for row in csv.reader(io.StringIO(text, newline=""),
                                                                          delimiter=delimiter)]  # fmt: skip
        except csv.Error as error:
            raise ImportFileError(_("The file could not be read as CSV: %(error)s", error=str(error))) from error
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows or not any(rows[0]):
        raise ImportFileError(_("The file has no header row. The first row must name the columns."))
    header = rows[0]
    while header and not header[-1]:
        header.pop()
    body = rows[1:]
    if not body:
        raise ImportFileError(_("The file has a header but no people."))
    if len(body) > max_rows:
        raise ImportFileError(_("The file has more than %(count)s rows. Split it into smaller files.", count=max_rows))
    return Table(header=header, rows=body, encoding=encoding, delimiter=delimiter, moodle=_is_moodle(header))


def _is_moodle(header: list[str]) -> bool:
    """Whether a header is Moodle's "upload users" one: username, firstname, lastname and courseN columns."""
    keys = {_header_key(h) for h in header}
    return keys >= MOODLE_REQUIRED and any(_MOODLE_COURSE.match(k) for k in keys)


def as_table(rows_or_file) -> Table:
    """A ``Table`` from file bytes, a ``Table``, or rows of cells whose first row is the header."""
    if isinstance(rows_or_file, Table):
        return rows_or_file
    if isinstance(rows_or_file, bytes | bytearray):
        return read_table(bytes(rows_or_file))
    rows = [[_clean(cell) for cell in row] for row in rows_or_file]
    if len(rows) < 2:
        raise ImportFileError(_("The file has a header but no people."))
    return Table(header=rows[0], rows=rows[1:], encoding="utf-8", delimiter=",", moodle=_is_moodle(rows[0]))


# --- mapping ------------------------------------------------------------------------------------------


def moodle_mapping(table: Table) -> dict[int, str]:
    """Moodle's columns: username, firstname, lastname, email, phone1; courseN/groupN are read as cohorts."""
    mapping = {}
    for index, name in enumerate(table.header):
        key = _header_key(name)
        mapping[index] = MOODLE_FIELDS.get(key, "cohort" if _MOODLE_COURSE.match(key) else "ignore")
    return mapping


def guess_mapping(table: Table) -> dict[int, str]:
    """Which column holds which field, guessed from the header words (each field at most once, cohorts any number)."""
    if table.moodle:
        return moodle_mapping(table)
    mapping, used = {}, set()
    for index, name in enumerate(table.header):
        key = _header_key(name)
        guess = next((f for f, words in HEADER_WORDS.items() if key in words), "ignore")
        if guess in used and guess != "cohort":
            guess = "ignore"
        used.add(guess)
        mapping[index] = guess
    return mapping


def _mapping_row(organisation: Organisation, table: Table) -> ImportMapping | None:
    return db.session.execute(
        select(ImportMapping).where(ImportMapping.organisation_id == organisation.id,
                                    ImportMapping.header_signature == table.signature)
    ).scalar_one_or_none()  # fmt: skip


def remembered_mapping(organisation: Organisation, table: Table) -> dict[int, str] | None:
    """The mapping this organisation chose last time for a file with the same header, if any."""
    row = _mapping_row(organisation, table)
    if row is None:
        return None
    try:
        stored = {int(k): v for k, v in json.loads(row.mapping).items() if v in FIELDS}
    except (ValueError, AttributeError):
        return None
    return stored if set(stored) == set(range(len(table.header))) else None


def proposed_mapping(organisation: Organisation, table: Table) -> tuple[dict[int, str], bool]:
    """The mapping to show: the remembered one (True) or the guess from the header words (False)."""
    remembered = remembered_mapping(organisation, table)
    return (remembered, True) if remembered is not None else (guess_mapping(table), False)


def check_mapping(mapping: dict[int, str]) -> list[str]:
    """What is wrong with a mapping as a whole (translated); empty when it can be used."""
    problems = []
    chosen = [f for f in mapping.values() if f not in ("ignore", "cohort")]
    for name in sorted({f for f in chosen if chosen.count(f) > 1}):
        problems.append(_("%(field)s is chosen for more than one column.", field=FIELD_LABELS[name]))
    values = set(mapping.values())
    if not {"first_name", "last_name"} <= values:
        problems.append(_("Choose the columns with the first name and the last name."))
    if "cohort" not in values:
        problems.append(_("Choose the column with the cohort or group to enrol people in."))
    return problems


# --- cohorts ------------------------------------------------------------------------------------------


def _cohort_key(text: str) -> str:
    text = unicodedata.normalize("NFC", text or "").casefold()
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    return " ".join(text.split())


def sponsorable_cohorts() -> list[Cohort]:
    """The cohorts an organisation manager may enrol staff into: those open for enrolment."""
    return db.session.execute(
        select(Cohort).where(Cohort.status == "open").options(joinedload(Cohort.course)).order_by(Cohort.id)
    ).scalars().all()  # fmt: skip


class _CohortIndex:
    """Finds a cohort by its name, by its course's code when the course has one open cohort, or by both."""

    def __init__(self, cohorts: list[Cohort]):
        self.by_name: dict[str, list[Cohort]] = {}
        self.by_course: dict[str, list[Cohort]] = {}
        for cohort in cohorts:
            self.by_name.setdefault(_cohort_key(cohort.name), []).append(cohort)
            self.by_course.setdefault(_cohort_key(cohort.course.code), []).append(cohort)

    def find(self, value: str, group: str = "") -> tuple[Cohort | None, str | None]:
        """``(cohort, None)`` or ``(None, translated reason)``."""
        key, group_key = _cohort_key(value), _cohort_key(group)
        if group_key:  # Moodle: course1 is the course's short name, group1 the cohort
            matches = [c for c in self.by_course.get(key, []) if _cohort_key(c.name) == group_key]
        else:
            matches = self.by_name.get(key) or self.by_course.get(key, [])
        if len(matches) == 1:
            return matches[0], None
        if len(matches) > 1:
            return None, _("“%(name)s” names more than one open cohort: write the cohort's full name.", name=value)
        shown = f"{value} / {group}" if group else value
        return None, _("There is no open cohort called “%(name)s”.", name=shown)


# --- names and usernames ------------------------------------------------------------------------------

_CYRILLIC_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ѓ": "gj", "ђ": "dj", "е": "e", "ж": "zh", "з": "z",
    "ѕ": "dz", "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "ќ": "kj", "ћ": "c", "у": "u", "ф": "f", "х": "h", "ц": "c",
    "ч": "ch", "џ": "dzh", "ш": "sh", "й": "j", "ы": "y", "э": "e", "ю": "ju", "я": "ja", "ь": "", "ъ": "",
    "ё": "e", "є": "je", "ї": "ji", "і": "i", "ѐ": "e", "ѝ": "i",
}  # fmt: skip
_LATIN_SPECIAL = {"đ": "dj", "ß": "ss", "æ": "ae", "ø": "o", "ł": "l", "ə": "e"}
# How the alternative-script name is written: Serbian/Macedonian Latin with its own letters.
_CYRILLIC_TO_LATIN_NAME = {**_CYRILLIC_TO_LATIN, "ђ": "đ", "ж": "ž", "ћ": "ć", "ч": "č", "џ": "dž", "ш": "š",
                           "ѓ": "ǵ", "ќ": "ḱ", "ѕ": "dz"}  # fmt: skip


def is_cyrillic(text: str) -> bool:
    """Whether the text's letters are Cyrillic."""
    return any(_is_cyrillic(ch) for ch in text or "")


def latin_name(text: str) -> str:
    """A Cyrillic name in Latin letters (Serbian/Macedonian usage), capitals kept."""
    out = []
    for ch in text:
        latin = _CYRILLIC_TO_LATIN_NAME.get(ch.lower())
        if latin is None:
            out.append(ch)
        else:
            out.append(latin[:1].upper() + latin[1:] if ch.isupper() else latin)
    return "".join(out)


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: ``Đorđe Petrović`` -> ``djordjepetrovic``."""
    out = []
    for ch in (text or "").casefold():
        ch = _CYRILLIC_TO_LATIN.get(ch, _LATIN_SPECIAL.get(ch, ch))
        out.append(unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode())
    return re.sub(r"[^a-z0-9]", "", "".join(out))


def _username_base(first: str, last: str) -> str:
    base = ".".join(part for part in (ascii_slug(first), ascii_slug(last)) if part) or "person"
    return base[:70]


# --- validation and import ----------------------------------------------------------------------------


@dataclass
class _Person:
    row: int
    first_name: str
    last_name: str
    email: str | None
    username: str | None
    phone: str | None
    cohorts: list[Cohort]
    user: User | None = None


def _cell(row: list[str], index: int) -> str:
    return row[index].strip() if index < len(row) else ""


def _members(organisation_id: int) -> set[int]:
    return set(
        db.session.execute(
            select(Membership.user_id).where(Membership.role == "member", Membership.scope_type == "organisation",
                                             Membership.scope_id == organisation_id)
        ).scalars()
    )  # fmt: skip


def _existing(column, values) -> dict[str, User]:
    """Accounts whose identifier (compared in lower case) is among ``values``, a few hundred per query."""
    found, values = {}, sorted(values)
    for start in range(0, len(values), 500):
        query = select(User).where(func.lower(column).in_(values[start : start + 500]))
        for user in db.session.execute(query).scalars():
            found[getattr(user, column.key).lower()] = user
    return found


def validate(organisation: Organisation, table: Table, mapping: dict[int, str]) -> tuple[list[_Person], list[RowError]]:
    """Read every row against the mapping; people to import, or every bad row with its reason."""
    columns: dict[str, list[int]] = {}
    for index, name in sorted(mapping.items()):
        columns.setdefault(name, []).append(int(index))
    moodle_groups = {}
    if table.moodle:
        keys = [_header_key(h) for h in table.header]
        for index, key in enumerate(keys):
            if match := _MOODLE_COURSE.match(key):
                group_key = f"group{match.group(1)}"
                moodle_groups[index] = keys.index(group_key) if group_key in keys else None
    index = _CohortIndex(sponsorable_cohorts())

    def one(row, name):
        return _cell(row, columns[name][0]) if name in columns else ""

    people, errors = [], []
    for number, row in enumerate(table.rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        reasons = []
        first, last = one(row, "first_name"), one(row, "last_name")
        if not first:
            reasons.append(_("the first name is missing"))
        if not last:
            reasons.append(_("the last name is missing"))
        email = one(row, "email").lower() or None
        if email and not _EMAIL.match(email):
            reasons.append(_("“%(email)s” is not a valid e-mail address", email=email))
        username = one(row, "username") or None
        if username and not re.fullmatch(r"[\w.@+-]{2,80}", username):
            reasons.append(_("“%(username)s” is not a valid username", username=username))
        phone = normalise_phone(one(row, "phone")) or None
        if phone and not re.fullmatch(r"\+?\d{6,20}", phone):
            reasons.append(_("“%(phone)s” is not a valid phone number", phone=one(row, "phone")))
        cohorts = []
        for column in columns.get("cohort", []):
            value = _cell(row, column)
            group_column = moodle_groups.get(column)
            group = _cell(row, group_column) if group_column is not None else ""
            if not value:
                continue
            cohort, reason = index.find(value, group)
            if reason:
                reasons.append(reason)
            elif cohort not in cohorts:
                cohorts.append(cohort)
        if not cohorts and not reasons and columns.get("cohort"):
            reasons.append(_("no cohort is named"))
        if reasons:
            errors.append(RowError(number, "; ".join(reasons)))
        else:
            people.append(_Person(number, first, last, email, username, phone, cohorts))
    errors.extend(_match_accounts(organisation, people))
    errors.sort(key=lambda e: e.row)
    return people, errors


def _match_accounts(organisation: Organisation, people: list[_Person]) -> list[RowError]:
    """Match each person to an existing account (by e-mail, else username) or plan a new one; duplicates are errors."""
    errors: dict[int, list[str]] = {}
    members = _members(organisation.id)
    by_email = _existing(User.email, {p.email for p in people if p.email})
    by_username = _existing(User.username, {p.username.lower() for p in people if p.username})
    by_phone = _existing(User.phone, {p.phone for p in people if p.phone})
    same_name = _same_name_members(organisation, [p for p in people if p.email is None and p.username is None])
    seen: dict[tuple[str, str], int] = {}
    for person in people:
        for kind, value in (("email", person.email), ("username", person.username and person.username.lower()),
                            ("phone", person.phone)):  # fmt: skip
            if not value:
                continue
            if (kind, value) in seen:
                errors.setdefault(person.row, []).append(
                    _("%(value)s is also in row %(row)s", value=value, row=seen[(kind, value)])
                )
            seen.setdefault((kind, value), person.row)
        user = by_email.get(person.email) if person.email else None
        if user is None and person.username:
            user = by_username.get(person.username.lower())
            if user is not None and person.email and user.email and user.email.lower() != person.email:
                errors.setdefault(person.row, []).append(
                    _("the username %(username)s belongs to an account with another e-mail address",
                      username=person.username)
                )  # fmt: skip
                continue
        if user is not None and user.id not in members:
            errors.setdefault(person.row, []).append(
                _("%(value)s belongs to someone who is not on this organisation's staff",
                  value=person.email or person.username)
            )  # fmt: skip
            continue
        owner = by_phone.get(person.phone) if person.phone else None
        if owner is not None and (user is None or owner.id != user.id):
            errors.setdefault(person.row, []).append(
                _("the phone number %(phone)s belongs to another account", phone=person.phone)
            )
        if user is None and person.email is None and person.username is None:
            found = same_name.get((person.first_name.lower(), person.last_name.lower()), [])
            user = found[0] if len(found) == 1 else None
        person.user = user
    return [RowError(row, "; ".join(reasons)) for row, reasons in errors.items()]


def _same_name_members(organisation: Organisation, people: list[_Person]) -> dict[tuple[str, str], list[User]]:
    """Staff members who share a name with these people, by (first name, last name) in lower case.

    Someone without e-mail or username is the staff member of the same name, if exactly one has it.
    """
    found: dict[tuple[str, str], list[User]] = {}
    staff = select(Membership.user_id).where(Membership.role == "member", Membership.scope_type == "organisation",
                                             Membership.scope_id == organisation.id)  # fmt: skip
    first, last = func.lower(User.first_name), func.lower(User.last_name)
    for start in range(0, len(people), 500):
        chunk = people[start : start + 500]
        query = select(User, first, last).where(
            User.id.in_(staff), first.in_({p.first_name.lower() for p in chunk}),
            last.in_({p.last_name.lower() for p in chunk}),
        )  # fmt: skip
        for user, first_key, last_key in db.session.execute(query):
            users = found.setdefault((first_key, last_key), [])
            if user not in users:  # the same person found again by another chunk
                users.append(user)
    return found


def _unique_usernames(people: list[_Person]) -> None:
    """Give each new account without a username one made from the name in Latin letters, unique on the site."""
    wanted = {p.row: _username_base(p.first_name, p.last_name) for p in people if p.user is None and not p.username}
    if not wanted:
        return
    taken = {p.username.lower() for p in people if p.username}
    # Only names already in use need the numbered ones looked up (bases are [a-z0-9.]: nothing to escape).
    in_use = sorted(_existing(User.username, set(wanted.values())))
    for start in range(0, len(in_use), 100):
        like = or_(*(func.lower(User.username).like(f"{base}%") for base in in_use[start : start + 100]))
        taken |= {name.lower() for name in db.session.execute(select(User.username).where(like)).scalars()}
    for person in people:
        base = wanted.get(person.row)
        if base is None:
            continue
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}{n}"
        taken.add(candidate)
        person.username = candidate


def _create_accounts(people: list[_Person], organisation: Organisation, by: User | None) -> list[User]:
    """New accounts, each a ``member`` of the organisation, inserted together; one audit event per account."""
    users = []
    for person in people:
        cyrillic = is_cyrillic(person.first_name + person.last_name)
        person.user = User(
            username=person.username, email=person.email, phone=person.phone, first_name=person.first_name,
            last_name=person.last_name, first_name_alt=latin_name(person.first_name) if cyrillic else None,
            last_name_alt=latin_name(person.last_name) if cyrillic else None,
        )  # fmt: skip
        users.append(person.user)
    db.session.add_all(users)
    db.session.flush()
    db.session.add_all(
        Membership(user_id=user.id, role="member", scope_type="organisation", scope_id=organisation.id,
                   granted_by_id=by.id if by else None)
        for user in users
    )  # fmt: skip
    db.session.flush()
    # The membership is part of the account's creation event, as the administration's create_user states it.
    audit.append_many({"action": "user.created", "obj": user, "actor": by, "subject": user,
                       "after": {"username": user.username, "email": user.email, "phone": user.phone,
                                 "first_name": user.first_name, "last_name": user.last_name,
                                 "member_of": organisation.id}}
                      for user in users)  # fmt: skip
    return users


def _save_mapping(organisation: Organisation, table: Table, mapping: dict[int, str]) -> None:
    row = _mapping_row(organisation, table)
    if row is None:
        row = ImportMapping(organisation_id=organisation.id, header_signature=table.signature)
        db.session.add(row)
    row.mapping = json.dumps({str(k): v for k, v in sorted(mapping.items())})


def _checked(organisation: Organisation, table: Table, mapping: dict[int, str]):
    if problems := check_mapping(mapping):
        return [], [RowError(1, problem) for problem in problems]
    people, errors = validate(organisation, table, mapping)
    if not people and not errors:
        errors = [RowError(1, _("The file has a header but no people."))]
    return people, errors


def check_staff(organisation: Organisation, table: Table, mapping: dict[int, str]) -> list[RowError]:
    """Every problem of the file with this mapping (empty: it can be imported); changes nothing."""
    return _checked(organisation, table, mapping)[1]


def sync_limit() -> int:
    """Files with more rows than this are imported by a background task (a page would wait too long)."""
    return current_app.config.get("CATALOGUE_IMPORT_SYNC_ROWS", DEFAULT_SYNC_ROWS)


def queue_import(organisation: Organisation, upload_id: str, mapping: dict[int, str], by: User):
    """Queue the import of a kept upload as a task (its page shows progress and offers a report)."""
    begin_write()
    task = enqueue("catalogue.staff_import",
                   {"organisation": organisation.id, "upload": upload_id, "by": by.id,
                    "mapping": {str(k): v for k, v in mapping.items()}},
                   created_by=by, scope=("organisation", organisation.id))  # fmt: skip
    audit.append("catalogue.staff.import_queued", organisation, actor=by, after={"task": task.public_id})
    db.session.commit()
    return task


def run_import_task(task, progress):
    """Task handler: import a kept upload and write a CSV report (what was done, or every bad row)."""
    from lms.exports import stream_csv
    from lms.tasks import arguments, result_file

    args = arguments(task)
    organisation = db.session.get(Organisation, args["organisation"])
    by = db.session.get(User, args["by"])
    data = load_upload(args["upload"], organisation, by)
    if data is None:
        raise LookupError("the uploaded file is gone")
    progress(10, _("Checking every row"))
    result = import_staff(organisation, data, {int(k): v for k, v in args["mapping"].items()}, by)
    if result.ok:
        header = [_("Username"), _("First name"), _("Last name"), _("E-mail"), _("Account")]
        rows = [(user.username, user.first_name, user.last_name, user.email, kind)
                for user, kind in [(u, _("new")) for u in result.created] + [(u, _("existing")) for u in result.matched]]  # fmt: skip
        discard_upload(args["upload"])
    else:
        header = [_("Row"), _("Problem")]
        rows = [(error.row, error.message) for error in result.errors]
    path = result_file(task, "staff-import-report.csv")
    path.write_bytes(b"".join(stream_csv(header, rows)))  # the export rules: BOM, CRLF, formulas neutralised
    return path


def import_staff(
    organisation: Organisation, rows_or_file, mapping: dict[int, str] | None, by: User | None
) -> ImportResult:
    """Import an organisation's staff list, all or nothing.

    ``rows_or_file``: the file's bytes (CSV or XLSX), a ``Table``, or rows of cells with the header
    first. ``mapping``: ``{column index: field}`` (fields in ``FIELDS``); None uses the remembered or
    guessed mapping. Every row is validated first; any bad row means nothing is created and the
    result lists every bad row. Otherwise, in one transaction: accounts created (or matched by
    e-mail, else username), ``member`` of the organisation, enrolled in the named cohorts with the
    organisation as sponsor (a full cohort puts them on its waiting list), the mapping remembered,
    and invitations queued as a task for those with an e-mail address. ``by`` must be allowed
    ``catalogue.staff.import`` on the organisation (None: the system itself).
    """
    if by is not None and not access.can(by, "catalogue.staff.import", organisation):
        raise CatalogueError(_("You may not import staff into this organisation."))
    table = as_table(rows_or_file)
    mapping = {int(k): v for k, v in (mapping or proposed_mapping(organisation, table)[0]).items()}
    people, errors = _checked(organisation, table, mapping)
    if errors:
        return ImportResult(ok=False, errors=errors)
    result = ImportResult(ok=True)
    begin_write()
    try:
        _unique_usernames(people)
        result.matched = [p.user for p in people if p.user is not None]
        result.created = _create_accounts([p for p in people if p.user is None], organisation, by)
        enrolled_pairs = set(
            db.session.execute(
                select(Enrolment.user_id, Enrolment.cohort_id).where(
                    Enrolment.user_id.in_([user.id for user in result.matched] or [0])
                )
            ).all()
        )
        placements = []
        for person in people:
            for cohort in person.cohorts:
                if (person.user.id, cohort.id) in enrolled_pairs:
                    result.already_enrolled += 1
                else:
                    placements.append((person.user, cohort))
        # Seats go in file order: the first rows get the places, the rest the waiting list.
        enrolments = services.add_enrolments(placements, by, sponsor=organisation)
        result.waitlisted = sum(1 for enrolment in enrolments if enrolment.status == "waitlisted")
        result.enrolled = len(enrolments) - result.waitlisted
        _save_mapping(organisation, table, mapping)
        created_ids = {user.id for user in result.created}
        invited = [p.user.id for p in people if p.user.email and p.user.id in created_ids]
        if invited:
            result.invitation_task = enqueue(
                "catalogue.staff_invitations", {"user_ids": invited, "by": by.id if by else None},
                created_by=by, scope=("organisation", organisation.id),
            )  # fmt: skip
        audit.append("catalogue.staff.imported", organisation, actor=by,
                     after={"rows": len(people), "created": len(result.created), "matched": len(result.matched),
                            "enrolled": result.enrolled, "waitlisted": result.waitlisted,
                            "already_enrolled": result.already_enrolled, "invited": len(invited),
                            "encoding": table.encoding, "moodle": table.moodle})  # fmt: skip
        user_ids, enrolment_ids = [p.user.id for p in people], [enrolment.id for enrolment in enrolments]
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    # The commit expired every row: load them back a few hundred per query, or the hooks, the page
    # and the task's report would each load them one by one.
    _load_again(User, user_ids)
    _load_again(Enrolment, enrolment_ids)
    for enrolment in enrolments:
        hook().lms_enrolment_created(enrolment=enrolment)
    result.without_email = [user for user in result.created if not user.email]
    return result


def _load_again(model, ids: list[int]) -> None:
    for start in range(0, len(ids), 500):
        db.session.execute(select(model).where(model.id.in_(ids[start : start + 500]))).scalars().all()


def send_invitations(task, progress) -> None:
    """Task handler: invite each imported person with an e-mail address (``lms.auth.services.invite``)."""
    from lms.auth.services import AuthError, invite
    from lms.tasks import arguments

    args = arguments(task)
    by = db.session.get(User, args["by"]) if args.get("by") else None
    ids = args.get("user_ids", [])
    for done, user_id in enumerate(ids, start=1):
        user = db.session.get(User, user_id)
        if user is not None and user.email and user.password_hash is None:
            try:
                invite(user, by)
            except AuthError:
                db.session.rollback()  # deactivated meanwhile: nothing to send
        if done % 50 == 0:
            progress(done * 100 // len(ids))


# --- the uploaded file between preview and confirmation -----------------------------------------------


def _uploads() -> Path:
    return services.storage_root() / "imports"


def keep_upload(organisation: Organisation, by: User, data: bytes) -> str:
    """Keep an uploaded file server-side under a random name until it is confirmed; returns that name."""
    folder = _uploads()
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = (utcnow() - UPLOAD_LIFETIME).timestamp()
    for old in folder.glob("*.json"):  # files nobody confirmed are not kept
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
            old.with_suffix(".bin").unlink(missing_ok=True)
    upload_id = secrets.token_hex(16)
    (folder / f"{upload_id}.bin").write_bytes(data)
    (folder / f"{upload_id}.json").write_text(json.dumps({"organisation": organisation.id, "by": by.id}))
    return upload_id


def load_upload(upload_id: str, organisation: Organisation, by: User) -> bytes | None:
    """The kept file, if ``upload_id`` names one uploaded by ``by`` for ``organisation``."""
    if not _UPLOAD_ID.match(upload_id or ""):
        return None
    folder = _uploads()
    try:
        meta = json.loads((folder / f"{upload_id}.json").read_text())
        data = (folder / f"{upload_id}.bin").read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("organisation") != organisation.id or meta.get("by") != by.id:
        return None
    return data


def discard_upload(upload_id: str) -> None:
    """Delete a kept file once it has been imported."""
    if _UPLOAD_ID.match(upload_id or ""):
        for suffix in (".bin", ".json"):
            (_uploads() / f"{upload_id}{suffix}").unlink(missing_ok=True)
