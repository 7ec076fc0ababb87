"""Every write of the catalogue, and the rules it enforces.

Each function checks its input, changes rows, appends the audit event and commits in one transaction;
event hooks fire after the commit. Refusals raise ``CatalogueError`` with a translated message and
change nothing.
"""

import hashlib
import io
import json
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nh3
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms import access, audit
from lms.database import begin_write, utcnow
from lms.extensions import db
from lms.models import Membership, User
from lms.plugins import flat, hook

from .models import (
    COURSE_KINDS,
    ENROLMENT_STATUSES,
    SEAT_STATUSES,
    SENSITIVE_KINDS,
    SESSION_KINDS,
    SESSION_MODES,
    Cohort,
    ConsentRecord,
    Course,
    Enrolment,
    EnrolmentEvent,
    Lesson,
    LessonAttachment,
    LessonProgress,
    LessonVersion,
    Module,
    Programme,
    SensitiveAttribute,
    Session,
)


class CatalogueError(ValueError):
    """A refused change; the message is translated and safe to show."""


# --- rich text ---------------------------------------------------------------------------------------

ALLOWED_TAGS = {
    "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "strong", "em", "b", "i", "u", "s", "sub", "sup",
    "blockquote", "code", "pre", "ul", "ol", "li", "dl", "dt", "dd", "a", "img", "figure", "figcaption",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "abbr", "span",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "hreflang"},
    "img": {"src", "alt", "width", "height"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "abbr": {"title"},
    "ol": {"start"},
    "*": {"lang"},
}
# data: URLs are left out: they bloat lessons past the 100 KB page budget and can smuggle SVG.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def sanitise_html(html: str) -> str:
    """Lesson text reduced to headings, lists, links, images and tables; scripts, handlers and odd URLs go."""
    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


# --- attachments -------------------------------------------------------------------------------------

OOXML_TYPES = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
ODF_TYPES = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
DEFAULT_ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024


def _zip_type(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                return declared if declared in ODF_TYPES else None
            if "[Content_Types].xml" in names:
                for prefix, content_type in OOXML_TYPES.items():
                    if any(name.startswith(prefix) for name in names):
                        return content_type
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return None


def _looks_like_text(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return False
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if any((ord(ch) < 32 and ch not in "\t\n\r\f") or ord(ch) == 127 for ch in text[:8192]):
        return False  # control bytes: a binary format, not text
    head = text.lstrip()[:512].lower()
    # HTML and SVG would run scripts when opened from our origin.
    return not head.startswith("<") and "<script" not in head and "<svg" not in head and "<html" not in head


def detect_content_type(data: bytes) -> str | None:
    """The type of a file judged by its bytes (PDF, PNG, JPEG, Office, OpenDocument, text, MP3, MP4); None if refused."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    if data.startswith(b"ID3") or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data and _looks_like_text(data):
        return "text/plain; charset=utf-8"
    return None


def store_content(data: bytes) -> tuple[str, str]:
    """Keep a file's bytes under ``LMS_STORAGE`` by content: its SHA-256 and its path relative to the storage.

    The same bytes are stored once, however many lessons or imported courses attach them.
    """
    digest = hashlib.sha256(data).hexdigest()
    relative = f"catalogue/attachments/{digest[:2]}/{digest}"
    target = Path(current_app.config["STORAGE"]) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(data)
    return digest, relative


def storage_root() -> Path:
    """The directory under ``LMS_STORAGE`` where the catalogue keeps its files."""
    return Path(current_app.config["STORAGE"]) / "catalogue"


def add_attachment(lesson: Lesson, filename: str, data: bytes, by: User) -> LessonAttachment:
    """Store a file for a lesson after checking its size and, by content, its type."""
    limit = current_app.config.get("CATALOGUE_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES)
    if not data:
        raise CatalogueError(_("The file is empty."))
    if len(data) > limit:
        raise CatalogueError(_("The file is too large: the limit is %(mb)s MB.", mb=limit // (1024 * 1024)))
    content_type = detect_content_type(data)
    if content_type is None:
        raise CatalogueError(
            _("This kind of file cannot be attached. Use PDF, images, Office or OpenDocument files, text, MP3 or MP4.")
        )
    digest, relative = store_content(data)
    safe_name = Path(filename or "file").name.replace("\x00", "")[:255] or "file"
    begin_write()
    attachment = LessonAttachment(
        lesson_id=lesson.id, filename=safe_name, content_type=content_type, size=len(data), sha256=digest,
        storage_path=relative, uploaded_by_id=by.id,
    )  # fmt: skip
    db.session.add(attachment)
    db.session.flush()
    audit.append("catalogue.attachment.added", attachment, actor=by, after={"lesson": lesson.id, "sha256": digest})
    db.session.commit()
    return attachment


def attachment_path(attachment: LessonAttachment) -> Path:
    """Where an attachment's bytes are on disk."""
    return Path(current_app.config["STORAGE"]) / attachment.storage_path


# --- time --------------------------------------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    """The programme's time zone (UTC if the stored name is unknown)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def to_utc(local: datetime, tz_name: str) -> datetime:
    """A wall-clock time in the programme's zone as the naive UTC the database stores."""
    return local.replace(tzinfo=zone(tz_name)).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def to_local(utc: datetime, tz_name: str) -> datetime:
    """A stored UTC time as wall-clock time in the programme's zone."""
    return utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone(tz_name))


def valid_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this server knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# --- programmes, courses, content --------------------------------------------------------------------

PROGRAMME_FIELDS = ("code", "name", "funder", "region", "country", "time_zone", "start_date", "end_date",
                    "languages", "targets")  # fmt: skip
COURSE_FIELDS = ("code", "title", "summary", "kind", "default_language", "self_application",
                 "accreditation_authority", "qualification_code", "eqf_level", "theory_hours",
                 "practice_hours")  # fmt: skip


def _state(obj, fields) -> dict:
    return {name: getattr(obj, name) for name in fields}


def _check_programme(values: dict, programme: Programme | None = None) -> None:
    if not valid_zone(values.get("time_zone") or ""):
        raise CatalogueError(_("Choose a time zone such as Europe/Skopje."))
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        raise CatalogueError(_("The end date is before the start date."))
    try:
        targets = json.loads(values.get("targets") or "{}")
    except ValueError:
        targets = None
    if not isinstance(targets, dict) or not all(isinstance(v, int | float) for v in targets.values()):
        raise CatalogueError(_('Targets must be written as {"indicator": number, …}.'))
    clash = db.session.execute(select(Programme.id).where(Programme.code == values["code"])).scalar()
    if clash and (programme is None or clash != programme.id):
        raise CatalogueError(_("Another programme already has the code %(code)s.", code=values["code"]))


def save_programme(values: dict, by: User, programme: Programme | None = None, partners=None) -> Programme:
    """Create a programme, or change one; ``partners`` (organisations) replaces the partner list when given."""
    values = {k: v for k, v in values.items() if k in PROGRAMME_FIELDS}
    values.setdefault("targets", "{}")
    _check_programme(values, programme)
    begin_write()
    before = _state(programme, PROGRAMME_FIELDS) if programme else None
    if programme is None:
        programme = Programme()
        db.session.add(programme)
    for name, value in values.items():
        setattr(programme, name, value)
    if partners is not None:
        programme.partners = list(partners)
    db.session.flush()
    action = "catalogue.programme.updated" if before else "catalogue.programme.created"
    audit.append(action, programme, actor=by, before=before, after=_state(programme, PROGRAMME_FIELDS))
    db.session.commit()
    return programme


def save_course(programme: Programme, values: dict, by: User, course: Course | None = None) -> Course:
    """Create a course in a programme, or change one."""
    values = {k: v for k, v in values.items() if k in COURSE_FIELDS}
    if values.get("kind") not in COURSE_KINDS:
        raise CatalogueError(_("Choose the kind of course."))
    if values.get("eqf_level") is not None and not 1 <= values["eqf_level"] <= 8:
        raise CatalogueError(_("The EQF level is a number from 1 to 8."))
    clash = db.session.execute(
        select(Course.id).where(Course.programme_id == programme.id, Course.code == values.get("code"))
    ).scalar()
    if clash and (course is None or clash != course.id):
        raise CatalogueError(_("Another course of this programme already has the code %(code)s.", code=values["code"]))
    begin_write()
    before = _state(course, COURSE_FIELDS) if course else None
    if course is None:
        course = Course(programme_id=programme.id)
        db.session.add(course)
    for name, value in values.items():
        setattr(course, name, value)
    db.session.flush()
    action = "catalogue.course.updated" if before else "catalogue.course.created"
    audit.append(action, course, actor=by, before=before, after=_state(course, COURSE_FIELDS))
    db.session.commit()
    return course


def add_module(course: Course, title: str, summary: str, by: User) -> Module:
    """Add a module at the end of a course."""
    if not (title or "").strip():
        raise CatalogueError(_("Give the module a title."))
    begin_write()
    last = db.session.execute(select(func.max(Module.position)).where(Module.course_id == course.id)).scalar()
    module = Module(course_id=course.id, position=(last or 0) + 1, title=title.strip(), summary=summary or "")
    db.session.add(module)
    db.session.flush()
    audit.append("catalogue.module.created", module, actor=by, after={"course": course.id, "title": module.title})
    db.session.commit()
    return module


def add_lesson(
    module: Module,
    *,
    language: str,
    title: str,
    body_html: str,
    by: User,
    estimated_minutes: int = 0,
    video_url: str | None = None,
    published: bool = True,
) -> Lesson:
    """Add a lesson at the end of a module with its first language version."""
    if not (title or "").strip():
        raise CatalogueError(_("Give the lesson a title."))
    begin_write()
    last = db.session.execute(select(func.max(Lesson.position)).where(Lesson.module_id == module.id)).scalar()
    lesson = Lesson(
        module_id=module.id, course_id=module.course_id, position=(last or 0) + 1,
        estimated_minutes=estimated_minutes or 0, video_url=_checked_url(video_url),
    )  # fmt: skip
    db.session.add(lesson)
    db.session.flush()
    version = LessonVersion(
        lesson_id=lesson.id, language=language, title=title.strip(), body_html=sanitise_html(body_html),
        published=published,
    )  # fmt: skip
    db.session.add(version)
    db.session.flush()
    audit.append("catalogue.lesson.created", lesson, actor=by, after={"module": module.id, "language": language})
    db.session.commit()
    return lesson


def _checked_url(url: str | None) -> str | None:
    url = (url or "").strip()
    if not url:
        return None
    if not url.lower().startswith(("https://", "http://")):
        raise CatalogueError(_("A video link must start with https:// or http://."))
    return url


def update_lesson(lesson: Lesson, *, estimated_minutes: int, video_url: str | None, by: User) -> Lesson:
    """Change a lesson's settings (not its text, which lives in its versions)."""
    begin_write()
    before = {"estimated_minutes": lesson.estimated_minutes, "video_url": lesson.video_url}
    lesson.estimated_minutes = estimated_minutes or 0
    lesson.video_url = _checked_url(video_url)
    after = {"estimated_minutes": lesson.estimated_minutes, "video_url": lesson.video_url}
    audit.append("catalogue.lesson.updated", lesson, actor=by, before=before, after=after)
    db.session.commit()
    return lesson


def save_lesson_version(
    lesson: Lesson, language: str, title: str, body_html: str, published: bool, by: User
) -> LessonVersion:
    """Write a lesson's text in one language (sanitised), creating the version if it is new."""
    if not (title or "").strip():
        raise CatalogueError(_("Give the lesson a title."))
    begin_write()
    version = db.session.execute(
        select(LessonVersion).where(LessonVersion.lesson_id == lesson.id, LessonVersion.language == language)
    ).scalar_one_or_none()
    before = {"title": version.title, "published": version.published} if version else None
    if version is None:
        version = LessonVersion(lesson_id=lesson.id, language=language)
        db.session.add(version)
    version.title = title.strip()
    version.body_html = sanitise_html(body_html)
    version.published = bool(published)
    db.session.flush()
    after = {"title": version.title, "published": version.published,
             "body_sha256": hashlib.sha256(version.body_html.encode()).hexdigest()}  # fmt: skip
    audit.append("catalogue.lesson.version_saved", version, actor=by, before=before, after=after)
    db.session.commit()
    return version


def lesson_published():
    """SQL condition (on a query of ``Lesson``) that the lesson has a published version in some language.

    The one definition of what learners see: a lesson without one is a draft, left out of their course page,
    previous/next links, next lesson, progress totals and the lessons completion requires.
    """
    return (
        select(LessonVersion.id).where(LessonVersion.lesson_id == Lesson.id, LessonVersion.published.is_(True)).exists()
    )


# --- cohorts and sessions ----------------------------------------------------------------------------

COHORT_FIELDS = ("name", "city", "language", "start_date", "end_date", "capacity", "status")


def save_cohort(course: Course, values: dict, by: User, cohort: Cohort | None = None) -> Cohort:
    """Create a cohort of a course, or change one."""
    values = {k: v for k, v in values.items() if k in COHORT_FIELDS}
    if values.get("start_date") and values.get("end_date") and values["end_date"] < values["start_date"]:
        raise CatalogueError(_("The end date is before the start date."))
    if values.get("capacity") is not None and values["capacity"] < 1:
        raise CatalogueError(_("The capacity is at least 1 (leave it empty for no limit)."))
    begin_write()
    before = _state(cohort, COHORT_FIELDS) if cohort else None
    if cohort is None:
        cohort = Cohort(course_id=course.id, programme_id=course.programme_id)
        db.session.add(cohort)
    for name, value in values.items():
        setattr(cohort, name, value)
    db.session.flush()
    action = "catalogue.cohort.updated" if before else "catalogue.cohort.created"
    audit.append(action, cohort, actor=by, before=before, after=_state(cohort, COHORT_FIELDS))
    db.session.commit()
    return cohort


def cohort_trainer_ids(cohort_ids) -> dict[int, list[int]]:
    """Trainer user ids per cohort (a trainer is a ``trainer`` membership on the cohort)."""
    rows = db.session.execute(
        select(Membership.scope_id, Membership.user_id).where(
            Membership.role == "trainer", Membership.scope_type == "cohort", Membership.scope_id.in_(list(cohort_ids))
        )
    ).all()
    result: dict[int, list[int]] = {}
    for cohort_id, user_id in rows:
        result.setdefault(cohort_id, []).append(user_id)
    return result


def add_trainer(cohort: Cohort, trainer: User, by: User) -> None:
    """Make a person a trainer of a cohort (a cohort-scoped ``trainer`` membership).

    Refused for an inactive account, a trainer already there, or a learner of the cohort (nobody keeps the
    register of their own course)."""
    if not trainer.active:
        raise CatalogueError(_("This account is deactivated."))
    begin_write()
    if _trainer_membership(cohort, trainer) is not None:
        raise CatalogueError(_("%(name)s is already a trainer of this cohort.", name=trainer.display_name))
    learner = db.session.execute(
        select(Enrolment.id).where(Enrolment.user_id == trainer.id, Enrolment.cohort_id == cohort.id)
    ).first()
    if learner:
        raise CatalogueError(_("%(name)s is a learner of this cohort.", name=trainer.display_name))
    membership = Membership(user_id=trainer.id, role="trainer", scope_type="cohort", scope_id=cohort.id,
                            granted_by_id=by.id)  # fmt: skip
    db.session.add(membership)
    db.session.flush()
    audit.append("membership.granted", membership, actor=by, subject=trainer,
                 after={"role": "trainer", "scope": "cohort", "scope_id": cohort.id})  # fmt: skip
    db.session.commit()


def schedule_session(
    cohort: Cohort,
    *,
    starts_local: datetime,
    ends_local: datetime,
    by: User,
    mode: str = "in_person",
    kind: str = "theory",
    place: str = "",
    meeting_url: str | None = None,
    module: Module | None = None,
    title: str = "",
    trainers=(),
) -> Session:
    """Schedule a session; times are wall-clock times in the programme's zone and are stored in UTC."""
    if ends_local <= starts_local:
        raise CatalogueError(_("The session must end after it starts."))
    if mode not in SESSION_MODES or kind not in SESSION_KINDS:
        raise CatalogueError(_("Choose how and what the session teaches."))
    if mode in ("online", "hybrid") and not meeting_url:
        raise CatalogueError(_("An online or hybrid session needs a meeting link."))
    if mode in ("in_person", "hybrid") and not (place or "").strip():
        raise CatalogueError(_("An in-person or hybrid session needs a place."))
    if module is not None and module.course_id != cohort.course_id:
        raise CatalogueError(_("The module belongs to another course."))
    tz_name = cohort.programme.time_zone
    begin_write()
    session = Session(
        cohort_id=cohort.id, starts_at=to_utc(starts_local, tz_name), ends_at=to_utc(ends_local, tz_name),
        mode=mode, kind=kind, place=(place or "").strip(), meeting_url=_checked_url(meeting_url),
        module_id=module.id if module else None, title=(title or "").strip(),
    )  # fmt: skip
    session.trainers = list(trainers)
    db.session.add(session)
    db.session.flush()
    audit.append("catalogue.session.scheduled", session, actor=by,
                 after={"cohort": cohort.id, "starts_at": session.starts_at, "mode": mode, "kind": kind})  # fmt: skip
    db.session.commit()
    return session


# --- enrolment ---------------------------------------------------------------------------------------

# Which status may follow which; completion has its own functions.
TRANSITIONS = {
    "applied": {"selected", "withdrawn", "waitlisted"},
    "selected": {"enrolled", "waitlisted", "withdrawn"},
    # A selection may move someone from the waiting list to selected once a place is offered to them.
    "waitlisted": {"selected", "enrolled", "withdrawn"},
    "enrolled": {"withdrawn", "completed"},
    "completed": set(),
    "withdrawn": set(),
}


def _lock_cohort(cohort_id: int) -> Cohort:
    # Counting seats and taking one must not interleave with another writer (PostgreSQL row lock;
    # SQLite serialises writers with BEGIN IMMEDIATE already).
    return db.session.execute(select(Cohort).where(Cohort.id == cohort_id).with_for_update()).scalar_one()


def seats_taken(cohort_id: int) -> int:
    """Enrolments holding a seat in the cohort."""
    return db.session.execute(
        select(func.count(Enrolment.id)).where(Enrolment.cohort_id == cohort_id, Enrolment.status.in_(SEAT_STATUSES))
    ).scalar_one()


def _has_seat(cohort: Cohort) -> bool:
    return cohort.capacity is None or seats_taken(cohort.id) < cohort.capacity


def _set_status(enrolment: Enrolment, status: str, by: User | None, reason: str = "") -> None:
    previous = enrolment.status if enrolment.id else None
    enrolment.status = status
    setattr(enrolment, f"{status}_at", utcnow())
    enrolment.reason = reason or ""
    db.session.add(EnrolmentEvent(enrolment=enrolment, from_status=previous, to_status=status,
                                  by_id=by.id if by else None, reason=reason or ""))  # fmt: skip


def _grant_learner(enrolment: Enrolment, by: User | None) -> None:
    """A seat comes with a cohort-scoped ``learner`` membership, which opens the course to the person."""
    _grant_learners([enrolment], by)


def _grant_learners(enrolments: list[Enrolment], by: User | None) -> None:
    """``_grant_learner`` for many enrolments, with one query for the memberships people already have."""
    if not enrolments:
        return
    held = set(
        db.session.execute(
            select(Membership.user_id, Membership.scope_id).where(
                Membership.role == "learner", Membership.scope_type == "cohort",
                Membership.user_id.in_({e.user_id for e in enrolments}),
                Membership.scope_id.in_({e.cohort_id for e in enrolments}),
            )
        ).all()
    )  # fmt: skip
    for enrolment in enrolments:
        if (enrolment.user_id, enrolment.cohort_id) not in held:
            held.add((enrolment.user_id, enrolment.cohort_id))
            db.session.add(Membership(user_id=enrolment.user_id, role="learner", scope_type="cohort",
                                      scope_id=enrolment.cohort_id, granted_by_id=by.id if by else None))  # fmt: skip


def _revoke_learner(enrolment: Enrolment) -> None:
    for membership in db.session.execute(
        select(Membership).where(
            Membership.user_id == enrolment.user_id, Membership.role == "learner",
            Membership.scope_type == "cohort", Membership.scope_id == enrolment.cohort_id,
        )
    ).scalars():  # fmt: skip
        db.session.delete(membership)


def enrol(
    learner: User,
    cohort: Cohort,
    by: User | None,
    *,
    sponsor=None,
    apply_only: bool = False,
    reason: str = "",
) -> Enrolment:
    """Put a learner in a cohort: as an application (``apply_only``), else enrolled, or waitlisted when full.

    Fires ``lms_enrolment_created`` after the commit.
    """
    enrolment = add_enrolment(learner, cohort, by, sponsor=sponsor, apply_only=apply_only, reason=reason)
    db.session.commit()
    hook().lms_enrolment_created(enrolment=enrolment)
    return enrolment


def add_enrolment(
    learner: User,
    cohort: Cohort,
    by: User | None,
    *,
    sponsor=None,
    apply_only: bool = False,
    reason: str = "",
) -> Enrolment:
    """``enrol``'s work inside the caller's write transaction, which commits and fires the event hook."""
    return add_enrolments([(learner, cohort)], by, sponsor=sponsor, apply_only=apply_only, reason=reason)[0]


def add_enrolments(
    placements: list[tuple[User, Cohort]],
    by: User | None,
    *,
    sponsor=None,
    apply_only: bool = False,
    reason: str = "",
) -> list[Enrolment]:
    """``add_enrolment`` for many ``(learner, cohort)`` pairs, in the order given, inside the caller's write
    transaction, which commits and fires the event hooks (a staff import enrols many people in one).

    Each cohort is locked and its seats counted once, then seats are handed out in memory in order
    (the rest go on the waiting list); the rows are written in batches and their audit events appended
    under one lock of the chain head. Refuses the whole lot if a cohort is closed or someone is in it already.
    """
    for _learner, cohort in placements:
        if cohort.status in ("closed", "cancelled"):
            raise CatalogueError(_("This cohort is not taking enrolments."))
    if not placements:
        return []
    begin_write()
    cohort_ids = sorted({cohort.id for _learner, cohort in placements})
    # Locked in id order (two writers cannot deadlock), held until the caller commits.
    cohorts = {c.id: c for c in db.session.execute(
        select(Cohort).where(Cohort.id.in_(cohort_ids)).order_by(Cohort.id).with_for_update()
    ).scalars()}  # fmt: skip
    placed = set(
        db.session.execute(
            select(Enrolment.user_id, Enrolment.cohort_id).where(
                Enrolment.cohort_id.in_(cohort_ids), Enrolment.user_id.in_({learner.id for learner, _c in placements})
            )
        ).all()
    )
    taken = seat_counts(cohort_ids)
    full = _("The cohort is full.")
    enrolments = []
    for learner, cohort in placements:
        cohort = cohorts[cohort.id]
        if (learner.id, cohort.id) in placed:
            raise CatalogueError(_("%(name)s is already in this cohort.", name=learner.display_name))
        placed.add((learner.id, cohort.id))
        enrolment = Enrolment(user_id=learner.id, cohort_id=cohort.id, cohort=cohort, sponsor_id=sponsor.id if sponsor else None,
                              created_by_id=by.id if by else None, status="applied")  # fmt: skip
        db.session.add(enrolment)
        if apply_only:
            _set_status(enrolment, "applied", by, reason)
        elif cohort.capacity is None or taken.get(cohort.id, 0) < cohort.capacity:
            taken[cohort.id] = taken.get(cohort.id, 0) + 1
            _set_status(enrolment, "enrolled", by, reason)
        else:
            _set_status(enrolment, "waitlisted", by, reason or full)
        enrolments.append(enrolment)
    _grant_learners([e for e in enrolments if e.status == "enrolled"], by)
    db.session.flush()
    audit.append_many({"action": "catalogue.enrolment.created", "obj": enrolment, "actor": by, "subject": learner,
                       "after": enrolment.audit_state(), "reason": reason}
                      for enrolment, (learner, _cohort) in zip(enrolments, placements, strict=True))  # fmt: skip
    return enrolments


def change_status(enrolment: Enrolment, status: str, by: User | None, reason: str = "") -> Enrolment:
    """Move an enrolment along its lifecycle; a withdrawal frees a seat for the first on the waiting list.

    Enrolling someone when the cohort is full puts them on the waiting list instead.
    """
    if status not in ENROLMENT_STATUSES or status not in TRANSITIONS[enrolment.status]:
        raise CatalogueError(_("This step is not possible for an enrolment that is %(status)s.",
                               status=status_label(enrolment.status)))  # fmt: skip
    if status == "completed":
        raise CatalogueError(_("Completion is recorded by the completion rules or marked with a reason."))
    if status == "withdrawn" and not (reason or "").strip():
        raise CatalogueError(_("Give a reason for the withdrawal."))
    begin_write()
    cohort = _lock_cohort(enrolment.cohort_id)
    before = enrolment.audit_state()
    freed = enrolment.status in SEAT_STATUSES and status == "withdrawn"
    if status == "enrolled" and not _has_seat(cohort):
        status, reason = "waitlisted", reason or _("The cohort is full.")
    _set_status(enrolment, status, by, reason)
    if status == "enrolled":
        _grant_learner(enrolment, by)
    if status == "withdrawn":
        _revoke_learner(enrolment)
    db.session.flush()
    audit.append("catalogue.enrolment.status_changed", enrolment, actor=by, subject=enrolment.user,
                 before=before, after=enrolment.audit_state(), reason=reason)  # fmt: skip
    promoted = _promote_from_waiting_list(cohort, by) if freed else None
    db.session.commit()
    return promoted or enrolment


# Enrolments that are still applications: the applicant may withdraw them; selection scores and decides them.
APPLICATION_STATUSES = ("applied", "selected", "waitlisted")


def withdraw_application(enrolment: Enrolment, by: User, reason: str = "") -> Enrolment:
    """The applicant takes back their own application (applied, selected or on the waiting list), audited like
    any withdrawal. Leaving a course one is enrolled in stays with the programme manager, who records why."""
    if enrolment.status not in APPLICATION_STATUSES:
        raise CatalogueError(_("Only an application can be withdrawn here. To leave a course you are enrolled in, "
                               "ask your programme manager."))  # fmt: skip
    return change_status(enrolment, "withdrawn", by, reason=reason.strip() or _("Withdrawn by the applicant."))


def _promote_from_waiting_list(cohort: Cohort, by: User | None) -> Enrolment | None:
    if not _has_seat(cohort):
        return None
    first = db.session.execute(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == "waitlisted")
        .order_by(Enrolment.waitlisted_at, Enrolment.id)
        .limit(1)
    ).scalar_one_or_none()
    if first is None:
        return None
    before = first.audit_state()
    _set_status(first, "enrolled", by, _("A seat became free."))
    _grant_learner(first, by)
    db.session.flush()
    audit.append("catalogue.enrolment.promoted", first, actor=by, subject=first.user, before=before,
                 after=first.audit_state())  # fmt: skip
    return first


def blockers(enrolment: Enrolment) -> list[tuple[str, dict]]:
    """Every plugin's reasons why the enrolment cannot complete yet."""
    return flat(hook().lms_certificate_blockers(enrolment=enrolment))


def blocker_messages(pairs) -> list[str]:
    """Blocker codes and parameters as sentences in the page's language."""
    messages = {}
    for table in hook().lms_blocker_messages():
        messages.update(table or {})
    return [str(messages[code]) % params if code in messages else code for code, params in pairs]


def lessons_incomplete(enrolment: Enrolment) -> list[tuple[str, dict]]:
    """The catalogue's own blocker: required published lessons of the course the learner has not marked done.

    A draft counts for nothing: learners cannot open it, so requiring it would block completion for good.
    """
    course_id = enrolment.cohort.course_id
    required = db.session.execute(
        select(func.count(Lesson.id)).where(
            Lesson.course_id == course_id, Lesson.required.is_(True), lesson_published()
        )
    ).scalar_one()
    done = db.session.execute(
        select(func.count(LessonProgress.id))
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(
            LessonProgress.user_id == enrolment.user_id,
            Lesson.course_id == course_id,
            Lesson.required.is_(True),
            lesson_published(),
            LessonProgress.done_at.is_not(None),
        )
    ).scalar_one()
    return [("lessons_incomplete", {"done": done, "required": required})] if done < required else []


def complete_if_ready(enrolment: Enrolment, by: User | None = None, today: date | None = None) -> bool:
    """Complete an enrolment when its cohort has ended and no plugin reports a blocker; True if it did."""
    cohort = enrolment.cohort
    today = today or utcnow().date()
    if enrolment.status != "enrolled" or cohort.end_date is None or cohort.end_date >= today:
        return False
    if blockers(enrolment):
        return False
    begin_write()
    before = enrolment.audit_state()
    _set_status(enrolment, "completed", by, "")
    db.session.flush()
    audit.append("catalogue.enrolment.completed", enrolment, actor=by, subject=enrolment.user, before=before,
                 after=enrolment.audit_state())  # fmt: skip
    db.session.commit()
    return True


def mark_completed(enrolment: Enrolment, by: User, reason: str) -> Enrolment:
    """A programme manager records completion by hand, with a reason, whatever the rules say."""
    if not (reason or "").strip():
        raise CatalogueError(_("Give a reason for marking the enrolment completed."))
    if enrolment.status != "enrolled":
        raise CatalogueError(_("Only an enrolled learner can be marked completed."))
    begin_write()
    before = enrolment.audit_state()
    _set_status(enrolment, "completed", by, reason)
    enrolment.completed_by_id = by.id
    enrolment.marked_reason = reason.strip()
    db.session.flush()
    audit.append("catalogue.enrolment.marked_completed", enrolment, actor=by, subject=enrolment.user, before=before,
                 after=enrolment.audit_state(), reason=reason)  # fmt: skip
    db.session.commit()
    return enrolment


STATUS_LABELS = {
    "applied": _l("applied"), "selected": _l("selected"), "enrolled": _l("enrolled"), "waitlisted": _l("waiting list"),
    "completed": _l("completed"), "withdrawn": _l("withdrawn"),
}  # fmt: skip


def status_label(status: str) -> str:
    """An enrolment status in the page's language (only that one label is translated)."""
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status


# --- progress ----------------------------------------------------------------------------------------


def _progress_row(user: User, lesson: Lesson) -> LessonProgress:
    row = db.session.execute(
        select(LessonProgress).where(LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id)
    ).scalar_one_or_none()
    if row is None:
        row = LessonProgress(user_id=user.id, lesson_id=lesson.id, course_id=lesson.course_id)
        db.session.add(row)
    return row


def record_view(user: User, lesson: Lesson) -> None:
    """Remember that the person opened the lesson, so the dashboard can resume there (not audited: no evidence).

    Opening again the lesson viewed last in the course changes nothing the dashboard shows, so it writes
    nothing: no write transaction, and pages kept by the page cache stay valid.
    """
    viewed_last = db.session.execute(
        select(LessonProgress.lesson_id)
        .where(LessonProgress.user_id == user.id, LessonProgress.course_id == lesson.course_id,
               LessonProgress.last_viewed_at.is_not(None))
        .order_by(LessonProgress.last_viewed_at.desc(), LessonProgress.id.desc()).limit(1)
    ).scalar()  # fmt: skip
    if viewed_last == lesson.id:
        return
    begin_write()
    _progress_row(user, lesson).last_viewed_at = utcnow()
    db.session.commit()


def mark_done(user: User, lesson: Lesson, done: bool = True) -> LessonProgress:
    """Mark a lesson done (or not done again) for the person."""
    begin_write()
    row = _progress_row(user, lesson)
    row.done_at = utcnow() if done else None
    row.last_viewed_at = row.last_viewed_at or utcnow()
    db.session.flush()
    audit.append("catalogue.lesson.done" if done else "catalogue.lesson.undone", row, actor=user, subject=user,
                 after={"lesson": lesson.id, "done": done})  # fmt: skip
    db.session.commit()
    return row


# --- sensitive attributes ----------------------------------------------------------------------------


def record_sensitive(
    enrolment: Enrolment,
    kind: str,
    value: str,
    *,
    consent_text_version: str,
    consent_given: bool,
    by: User,
    given_at: datetime | None = None,
) -> SensitiveAttribute:
    """Keep an ethnicity, disability or health attribute, only together with the person's recorded consent
    (the version of the text they agreed to, when — now unless ``given_at`` says earlier — and who recorded it).

    The audit chain receives digests, never the value.
    """
    if kind not in SENSITIVE_KINDS:
        raise CatalogueError(_("Unknown kind of information."))
    if not consent_given or not (consent_text_version or "").strip():
        raise CatalogueError(_("This information can only be recorded with the person's consent."))
    if not (value or "").strip():
        raise CatalogueError(_("Enter the information to record."))
    if given_at is not None and given_at > utcnow():
        raise CatalogueError(_("The consent cannot have been given in the future."))
    begin_write()
    consent = ConsentRecord(user_id=enrolment.user_id, purpose=f"sensitive:{kind}", given_at=given_at or utcnow(),
                            text_version=consent_text_version.strip(), recorded_by_id=by.id)  # fmt: skip
    db.session.add(consent)
    db.session.flush()
    attribute = SensitiveAttribute(user_id=enrolment.user_id, enrolment_id=enrolment.id, kind=kind,
                                   value=value.strip(), consent=consent, recorded_by_id=by.id)  # fmt: skip
    db.session.add(attribute)
    db.session.flush()
    audit.append("catalogue.consent.recorded", consent, actor=by, subject=enrolment.user,
                 after={"purpose": consent.purpose, "text_version": consent.text_version,
                        "given_at": consent.given_at})  # fmt: skip
    audit.append("catalogue.sensitive.recorded", attribute, actor=by, subject=enrolment.user,
                 after={"kind": kind, "value": audit.confidential(attribute.value)})  # fmt: skip
    db.session.commit()
    return attribute


# --- subject access and erasure ----------------------------------------------------------------------


def export_user(user: User) -> dict:
    """What the catalogue holds about a person."""
    enrolments = db.session.execute(select(Enrolment).where(Enrolment.user_id == user.id)).scalars().all()
    progress = db.session.execute(select(LessonProgress).where(LessonProgress.user_id == user.id)).scalars().all()
    sensitive = (
        db.session.execute(select(SensitiveAttribute).where(SensitiveAttribute.user_id == user.id)).scalars().all()
    )
    return {
        "enrolments": [
            {**e.audit_state(), "applied_at": e.applied_at, "enrolled_at": e.enrolled_at,
             "completed_at": e.completed_at, "withdrawn_at": e.withdrawn_at, "reason": e.reason}
            for e in enrolments
        ],
        "lesson_progress": [{"lesson": p.lesson_id, "done_at": p.done_at, "last_viewed_at": p.last_viewed_at}
                            for p in progress],
        "sensitive_attributes": [{"kind": s.kind, "value": s.value, "recorded_at": s.recorded_at} for s in sensitive],
    }  # fmt: skip


def erase_user(user: User) -> None:
    """Delete what is not evidence (sensitive attributes, consents, progress, feeds); enrolments stay as evidence."""
    from .models import CalendarFeed

    begin_write()
    for model in (SensitiveAttribute, ConsentRecord, LessonProgress, CalendarFeed):
        for row in db.session.execute(select(model).where(model.user_id == user.id)).scalars():
            db.session.delete(row)
    for enrolment in db.session.execute(select(Enrolment).where(Enrolment.user_id == user.id)).scalars():
        enrolment.reason = ""
        enrolment.marked_reason = None if enrolment.marked_reason is None else ""
    audit.append("catalogue.user.erased", user, subject=user)
    db.session.commit()


def end_of_day(day: date) -> datetime:
    """The first moment after ``day`` (naive)."""
    return datetime.combine(day, datetime.min.time()) + timedelta(days=1)


# --- self-application --------------------------------------------------------------------------------


def open_for_application(today: date | None = None) -> tuple:
    """SQL conditions (on a query joining ``Course``) of cohorts people may apply to themselves:
    open, starting after today, of a course that allows self-application."""
    today = today or utcnow().date()
    return Cohort.status == "open", Cohort.start_date > today, Course.self_application.is_(True)


def open_cohort(cohort_id: int) -> Cohort | None:
    """The cohort if people may apply to it now (``open_for_application``), else None."""
    return db.session.execute(
        select(Cohort)
        .join(Course, Course.id == Cohort.course_id)
        .where(Cohort.id == cohort_id, *open_for_application())
    ).scalar_one_or_none()


def seat_counts(cohort_ids) -> dict[int, int]:
    """Places taken per cohort, for many cohorts in one query."""
    ids = list(cohort_ids)
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(Enrolment.cohort_id, func.count(Enrolment.id))
            .where(Enrolment.cohort_id.in_(ids), Enrolment.status.in_(SEAT_STATUSES))
            .group_by(Enrolment.cohort_id)
        ).all()
    )


def apply_to_cohort(learner: User, cohort: Cohort) -> Enrolment:
    """A person applies to a cohort open for application: the application waits for selection, or goes on
    the waiting list when every place is already taken. Fires ``lms_enrolment_created`` after the commit."""
    if open_cohort(cohort.id) is None:
        raise CatalogueError(_("This cohort does not take applications."))
    begin_write()
    # The lock keeps the seat count true until the enrolment is written.
    full = not _has_seat(_lock_cohort(cohort.id))
    return enrol(learner, cohort, learner, apply_only=not full)


# --- trainers ----------------------------------------------------------------------------------------


def _trainer_membership(cohort: Cohort, trainer: User) -> Membership | None:
    return db.session.execute(
        select(Membership).where(
            Membership.user_id == trainer.id, Membership.role == "trainer",
            Membership.scope_type == "cohort", Membership.scope_id == cohort.id,
        )
    ).scalar_one_or_none()  # fmt: skip


def remove_trainer(cohort: Cohort, trainer: User, by: User) -> None:
    """End a person's trainer role on a cohort; the sessions they already ran keep their name."""
    begin_write()
    membership = _trainer_membership(cohort, trainer)
    if membership is None:
        raise CatalogueError(_("%(name)s is not a trainer of this cohort.", name=trainer.display_name))
    audit.append("membership.revoked", membership, actor=by, subject=trainer,
                 before={"role": "trainer", "scope": "cohort", "scope_id": cohort.id})  # fmt: skip
    db.session.delete(membership)
    db.session.commit()


# --- arranging and removing content ------------------------------------------------------------------
# A lesson someone has worked on is never deleted (its progress is evidence towards completion); it is
# retired instead: every language version unpublished and the lesson no longer required.


def _move(item, siblings: list, direction: str, by: User, action: str) -> bool:
    """Swap ``item`` with its neighbour among its ordered ``siblings`` and number them 1…n; False at either end."""
    if direction not in ("up", "down"):
        raise CatalogueError(_("Choose up or down."))
    index = siblings.index(item)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(siblings):
        return False
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, row in enumerate(siblings, start=1):
        row.position = position
    audit.append(action, item, actor=by, before={"position": index + 1}, after={"position": other + 1})
    db.session.commit()
    return True


def move_module(module: Module, direction: str, by: User) -> bool:
    """Move a module one place ``up`` or ``down`` in its course; False when it is already first or last."""
    begin_write()
    siblings = db.session.execute(
        select(Module).where(Module.course_id == module.course_id).order_by(Module.position, Module.id)
    ).scalars().all()  # fmt: skip
    return _move(module, list(siblings), direction, by, "catalogue.module.moved")


def move_lesson(lesson: Lesson, direction: str, by: User) -> bool:
    """Move a lesson one place ``up`` or ``down`` in its module; False when it is already first or last."""
    begin_write()
    siblings = db.session.execute(
        select(Lesson).where(Lesson.module_id == lesson.module_id).order_by(Lesson.position, Lesson.id)
    ).scalars().all()  # fmt: skip
    return _move(lesson, list(siblings), direction, by, "catalogue.lesson.moved")


def lesson_learner_count(lesson_id: int) -> int:
    """How many people have opened or finished the lesson."""
    return db.session.execute(
        select(func.count(LessonProgress.id)).where(LessonProgress.lesson_id == lesson_id)
    ).scalar_one()


def delete_lesson(lesson: Lesson, by: User) -> None:
    """Delete a lesson nobody has worked on, with its texts and file records (stored files are shared by
    content hash and stay). Refused when learners have progress on it: retire it instead."""
    begin_write()
    if lesson_learner_count(lesson.id):
        raise CatalogueError(_("Learners have already worked on this lesson, so it cannot be deleted. Retire it "
                               "instead: learners no longer see it and it no longer counts for completion."))  # fmt: skip
    before = {"module": lesson.module_id, "position": lesson.position,
              "titles": {v.language: v.title for v in lesson.versions}}  # fmt: skip
    audit.append("catalogue.lesson.deleted", lesson, actor=by, before=before)
    for row in [*lesson.versions, *lesson.attachments]:
        db.session.delete(row)
    db.session.delete(lesson)
    db.session.commit()


def retire_lesson(lesson: Lesson, by: User) -> None:
    """Hide a lesson from learners (every version unpublished) and stop requiring it; progress on it is kept."""
    begin_write()
    before = {"required": lesson.required, "published": sorted(v.language for v in lesson.versions if v.published)}
    for version in lesson.versions:
        version.published = False
    lesson.required = False
    audit.append("catalogue.lesson.retired", lesson, actor=by, before=before, after={"required": False,
                                                                                     "published": []})  # fmt: skip
    db.session.commit()


def delete_module(module: Module, by: User) -> None:
    """Delete an empty module that no session teaches; refused otherwise."""
    begin_write()
    if db.session.execute(select(Lesson.id).where(Lesson.module_id == module.id).limit(1)).first():
        raise CatalogueError(_("The module still has lessons: delete or retire them first."))
    if db.session.execute(select(Session.id).where(Session.module_id == module.id).limit(1)).first():
        raise CatalogueError(_("Sessions are scheduled for this module, so it cannot be deleted."))
    audit.append("catalogue.module.deleted", module, actor=by,
                 before={"course": module.course_id, "position": module.position, "title": module.title})  # fmt: skip
    db.session.delete(module)
    db.session.commit()


def set_version_published(version: LessonVersion, published: bool, by: User) -> None:
    """Publish or unpublish one language version of a lesson."""
    begin_write()
    before = {"language": version.language, "published": version.published}
    version.published = bool(published)
    action = "catalogue.lesson.version_published" if published else "catalogue.lesson.version_unpublished"
    audit.append(action, version, actor=by, before=before, after={"language": version.language,
                                                                  "published": version.published})  # fmt: skip
    db.session.commit()


# --- completion by the rules -------------------------------------------------------------------------


def complete_ended_enrolments(today: date | None = None, cohort_ids=None) -> int:
    """Complete every enrolled learner of ended cohorts (or of ``cohort_ids``) whom no plugin blocks; the number
    completed. Each completion is its own audited transaction."""
    today = today or utcnow().date()
    query = (
        select(Enrolment.id).join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Enrolment.status == "enrolled", Cohort.end_date < today).order_by(Enrolment.id)
    )  # fmt: skip
    if cohort_ids is not None:
        query = query.where(Cohort.id.in_(list(cohort_ids)))
    completed = 0
    for enrolment_id in db.session.execute(query).scalars().all():
        try:
            completed += complete_if_ready(db.session.get(Enrolment, enrolment_id), today=today)
        except Exception:
            # One failing blocker (a plugin's bug, a lost connection) must not hold back everyone else's completion.
            db.session.rollback()
            current_app.logger.exception("completing enrolment %s failed", enrolment_id)
    return completed


# --- sign-in codes -----------------------------------------------------------------------------------


def trainer_code_recipients(user):
    """The ``select`` of people with a seat in a cohort where ``user`` is a trainer now (None when they train
    none), for the core's sign-in codes; built from the cached grants, so asking costs no query."""
    cohort_ids = {
        scope_id for role, scope_type, scope_id in access.grants(user) if role == "trainer" and scope_type == "cohort"
    }
    if not cohort_ids:
        return None
    return select(Enrolment.user_id).where(Enrolment.cohort_id.in_(cohort_ids), Enrolment.status.in_(SEAT_STATUSES))
