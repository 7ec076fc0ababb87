"""Staff import: encodings and separators as Excel writes them, header guesses, all-or-nothing, pages."""

import io
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from courses.catalogue import imports
from courses.catalogue.models import Enrolment, ImportMapping
from lms.extensions import db
from lms.models import AuditEvent, Membership, Organisation, OutboxMessage, User
from lms.tasks import run_one
from tests.courses.catalogue.factories import build_course
from tests.courses.catalogue.test_views import count_queries
from tests.helpers import csrf_token

MK_HEADER = "Име;Презиме;Е-пошта;Група\r\n"
MK_ROWS = "Ана;Петровска;ana.petrovska@example.mk;Cohort of IMP-1\r\nЃорѓи;Ќосев;;Cohort of IMP-1\r\n"


@pytest.fixture
def setup(app, make_user):
    """An organisation with its manager, and an open cohort of capacity 3."""
    admin = make_user("imp_admin", roles=[("administrator", "site", None)])
    with app.app_context():
        organisation = Organisation(name="Centre for Social Work Prilep", kind="social_work_centre")
        db.session.add(organisation)
        db.session.commit()
        build_course(db.session.get(User, admin.id), code="IMP-1", capacity=3)
        org_id = organisation.id
    manager = make_user("imp_manager", roles=[("organisation_manager", "organisation", org_id)])
    return {"org": org_id, "manager": manager, "admin": admin}


def _import(app, setup, data, mapping=None):
    with app.app_context():
        organisation = db.session.get(Organisation, setup["org"])
        manager = db.session.get(User, setup["manager"].id)
        result = imports.import_staff(organisation, data, mapping, manager)
        for user in result.created + result.matched:
            db.session.refresh(user)  # loaded before the session closes
        return result


# --- reading files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding", "delimiter"),
    [
        ((MK_HEADER + MK_ROWS).encode("cp1251"), "cp1251", ";"),
        ("Ime;Prezime;E-pošta;Grupa\r\nĐorđe;Petrović;;A\r\nŽana;Čačić;;A\r\n".encode("cp1250"), "cp1250", ";"),
        ("Emri,Mbiemri,Email\r\nArbër,Krasniqi,a@example.al\r\n".encode("cp1250"), "cp1250", ","),
        ("Prenume;Nume\r\nȘtefan;Ionescu\r\n".encode(), "utf-8", ";"),
        (("\ufeff" + MK_HEADER + MK_ROWS).encode(), "utf-8-sig", ";"),
        ("Име\tПрезиме\r\nАна\tПетровска\r\n".encode("utf-16"), "utf-16", "\t"),
        (b'first name,last name,email\r\n"Smith, Jr",John,j@example.org\r\n', "utf-8", ","),
    ],
    ids=["cp1251-semicolon", "cp1250-semicolon", "cp1250-albanian-comma", "utf8", "utf8-bom", "utf16-tab", "quoted"],
)
def test_encoding_and_separator_are_detected(app, data, encoding, delimiter):
    with app.app_context():
        table = imports.read_table(data)
    assert (table.encoding, table.delimiter) == (encoding, delimiter)
    assert all(len(row) == len(table.header) for row in table.rows)
    text = data.decode(encoding)
    assert table.header[0] in text and table.rows[0][0] in text  # the letters came through intact


def test_cyrillic_names_survive_windows_1251(app):
    with app.app_context():
        table = imports.read_table((MK_HEADER + MK_ROWS).encode("cp1251"))
    assert table.header == ["Име", "Презиме", "Е-пошта", "Група"]
    assert table.rows[1][:2] == ["Ѓорѓи", "Ќосев"]


def test_xlsx_is_read(app):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Priimek", "Ime", "Telefon", "Skupina"])
    sheet.append(["Novak", "Maja", 38640123456, "Cohort of IMP-1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with app.app_context():
        table = imports.read_table(buffer.getvalue())
        assert imports.guess_mapping(table) == {0: "last_name", 1: "first_name", 2: "phone", 3: "cohort"}
    assert table.encoding == "xlsx" and table.rows == [["Novak", "Maja", "38640123456", "Cohort of IMP-1"]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"   \r\n", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This file is not a CSV or Excel file."),
        (b"PK\x03\x04 not really a zip", "This file is not a spreadsheet."),
        (b"Ime;Prezime\r\n", "The file has a header but no people."),
    ],
    ids=["empty", "blank", "binary", "fake-xlsx", "header-only"],
)
def test_bad_files_get_a_clear_message(app, data, message):
    with app.test_request_context(), pytest.raises(imports.ImportFileError, match=re.escape(message)):
        imports.read_table(data)


def test_too_large_a_file_is_refused(app):
    app.config["CATALOGUE_IMPORT_MAX_BYTES"] = 100
    with app.test_request_context(), pytest.raises(imports.ImportFileError, match="too large"):
        imports.read_table(b"Ime;Prezime\r\n" + b"Ana;Petrovska\r\n" * 20)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["Име", "Презиме", "Е-пошта", "Група"], ["first_name", "last_name", "email", "cohort"]),
        (["Ime", "Prezime", "Email", "Grupa"], ["first_name", "last_name", "email", "cohort"]),
        (["Emri", "Mbiemri", "E-mail", "Grupi"], ["first_name", "last_name", "email", "cohort"]),
        (["Ime", "Priimek", "E-pošta", "Skupina"], ["first_name", "last_name", "email", "cohort"]),
        (["Prenume", "Nume", "E-mail", "Grupa"], ["first_name", "last_name", "email", "cohort"]),
        (["First name", "Last name", "Phone", "Notes"], ["first_name", "last_name", "phone", "ignore"]),
    ],
    ids=["mk", "sr-latn", "sq", "sl", "ro", "en"],
)
def test_columns_are_guessed_from_header_words(header, expected):
    table = imports.Table(header=header, rows=[], encoding="utf-8", delimiter=";")
    assert list(imports.guess_mapping(table).values()) == expected


def test_transliterated_usernames():
    assert imports.ascii_slug("Ѓорѓи") == "gjorgji"
    assert imports.ascii_slug("Đorđe Petrović") == "djordjepetrovic"
    assert imports.latin_name("Љубица") == "Ljubica"


# --- all or nothing -------------------------------------------------------------------------------


def test_a_good_file_creates_members_and_enrolments_in_one_go(app, setup):
    result = _import(app, setup, (MK_HEADER + MK_ROWS).encode("cp1251"))
    assert result.ok, result.errors
    assert (len(result.created), result.enrolled, result.waitlisted) == (2, 2, 0)
    with app.app_context():
        ana = db.session.execute(select(User).where(User.email == "ana.petrovska@example.mk")).scalar_one()
        assert (ana.first_name, ana.first_name_alt, ana.username) == ("Ана", "Ana", "ana.petrovska")
        gjorgji = db.session.execute(select(User).where(User.first_name == "Ѓорѓи")).scalar_one()
        assert gjorgji.email is None and gjorgji.username == "gjorgji.kjosev"
        for person in (ana, gjorgji):
            enrolment = db.session.execute(select(Enrolment).where(Enrolment.user_id == person.id)).scalar_one()
            assert (enrolment.status, enrolment.sponsor_id) == ("enrolled", setup["org"])
            assert db.session.execute(
                select(Membership).where(Membership.user_id == person.id, Membership.role == "member",
                                         Membership.scope_id == setup["org"])
            ).scalar_one()  # fmt: skip
        assert db.session.execute(select(ImportMapping)).scalar_one().organisation_id == setup["org"]
        actions = db.session.execute(select(AuditEvent.action)).scalars().all()
        assert actions.count("catalogue.staff.imported") == 1
        assert actions.count("catalogue.enrolment.created") == 2 and actions.count("user.created") == 2
        # The invitation goes to the person with an e-mail address, through the queued task.
        run_one("test-worker")
        assert [m.to_address for m in db.session.execute(select(OutboxMessage)).scalars()] == [
            "ana.petrovska@example.mk"
        ]
    assert [user.first_name for user in result.without_email] == ["Ѓорѓи"]


def test_one_bad_row_means_nothing_is_created_and_every_bad_row_is_named(app, setup):
    data = (
        MK_HEADER
        + "Ана;Петровска;ana@example.mk;Cohort of IMP-1\r\n"
        + "Марко;;marko@example;Cohort of IMP-1\r\n"  # row 3: no last name, bad e-mail
        + "Елена;Стојанова;ana@example.mk;Cohort of IMP-1\r\n"  # row 4: same e-mail as row 2
        + "Иван;Иванов;;Непостоечка група\r\n"  # row 5: unknown cohort
    ).encode("cp1251")
    with app.app_context():
        users_before = db.session.execute(select(func.count(User.id))).scalar_one()
    result = _import(app, setup, data)
    assert not result.ok
    assert [e.row for e in result.errors] == [3, 4, 5]
    assert "last name is missing" in result.errors[0].message and "not a valid e-mail" in result.errors[0].message
    assert "also in row 2" in result.errors[1].message
    assert "Непостоечка група" in result.errors[2].message
    with app.app_context():
        assert db.session.execute(select(func.count(User.id))).scalar_one() == users_before
        assert db.session.execute(select(func.count(Enrolment.id))).scalar_one() == 0
        assert db.session.execute(select(func.count(ImportMapping.id))).scalar_one() == 0


def test_someone_outside_the_organisation_is_refused_and_staff_are_matched(app, setup, make_user):
    make_user("outsider", email="out@example.org")
    with app.app_context():
        staff = make_user("staffer", email="staff@example.org", roles=[("member", "organisation", setup["org"])])
    data = b"firstname,lastname,email,group\r\nOut,Sider,out@example.org,Cohort of IMP-1\r\n"
    result = _import(app, setup, data)
    assert not result.ok and "not on this organisation's staff" in result.errors[0].message
    result = _import(app, setup, b"first name,last name,email,group\r\nStaff,Er,STAFF@example.org,Cohort of IMP-1\r\n")
    assert result.ok and [u.id for u in result.matched] == [staff.id] and not result.created


def test_a_full_cohort_puts_the_rest_on_its_waiting_list(app, setup):
    rows = "".join(f"Person{n};Test;;Cohort of IMP-1\r\n" for n in range(5))
    result = _import(app, setup, ("Ime;Prezime;Email;Grupa\r\n" + rows).encode())
    assert result.ok and (result.enrolled, result.waitlisted) == (3, 2)


def _staff_rows(numbers):
    """Rows with an e-mail, with a username or with a name only, for cohort IMP-1 (capacity 3: the rest wait)."""
    rows = ["Име;Презиме;Е-пошта;Корисничко име;Група"]
    for n in numbers:
        email, username = (f"staff{n}@example.mk", "") if n % 3 == 0 else ("", f"staff.{n}" if n % 3 == 1 else "")
        rows.append(f"Стефан;Петровски {n};{email};{username};Cohort of IMP-1")
    return ("\r\n".join(rows) + "\r\n").encode("cp1251")


def test_the_import_runs_a_constant_number_of_queries_besides_its_inserts(app, setup):
    """Checking, matching, seats and the audit chain are done in bulk: only the new rows add statements."""
    counts = []
    for numbers in (range(100), range(100, 300)):
        with app.app_context():
            organisation = db.session.get(Organisation, setup["org"])
            manager = db.session.get(User, setup["manager"].id)
            with count_queries(app) as statements:
                result = imports.import_staff(organisation, _staff_rows(numbers), None, manager)
            assert result.ok, result.errors
            assert len(result.created) == len(numbers) and len(result.without_email) == sum(1 for n in numbers if n % 3)
        inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
        counts.append((len(statements) - len(inserts), len(inserts)))
    (others_100, inserts_100), (others_200, inserts_200) = counts
    assert others_200 - others_100 <= 2
    # An account, its membership, an enrolment and its first event per person (PostgreSQL sends them in batches).
    assert inserts_200 - inserts_100 <= 4 * 100


def test_moodle_upload_users_file(app, setup):
    data = (
        b"username,firstname,lastname,email,course1,role1,group1\r\n"
        b"mpetrova,Maria,Petrova,maria@example.bg,C-1,student,Cohort of IMP-1\r\n"
    )
    result = _import(app, setup, data)
    assert result.ok, result.errors
    assert result.created[0].username == "mpetrova" and result.enrolled == 1


def test_mapping_is_remembered_per_organisation_and_header(app, setup):
    header = "Col A;Col B;Col C\r\n"
    mapping = {0: "last_name", 1: "first_name", 2: "cohort"}
    assert _import(app, setup, (header + "Petrova;Maria;Cohort of IMP-1\r\n").encode(), mapping).ok
    with app.app_context():
        organisation = db.session.get(Organisation, setup["org"])
        table = imports.read_table((header + "Novak;Maja;Cohort of IMP-1\r\n").encode())
        assert imports.proposed_mapping(organisation, table) == (mapping, True)


# --- pages ----------------------------------------------------------------------------------------


def _upload(client, org_id, data, name="staff.csv"):
    token = csrf_token(client, f"/catalogue/organisations/{org_id}/import")
    return client.post(f"/catalogue/organisations/{org_id}/import",
                       data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")  # fmt: skip


def _confirm(client, org_id, preview_html):
    fields = dict(re.findall(r'<input id="(upload|csrf_token)" name="\1" type="hidden" value="([^"]*)"', preview_html))
    selects = re.findall(r'<select[^>]*name="(column_\d+)"[^>]*>(.*?)</select>', preview_html, re.S)
    for name, options in selects:
        fields[name] = re.search(r'<option selected value="([^"]+)"', options).group(1)
    return client.post(f"/catalogue/organisations/{org_id}/import/confirm", data=fields)


def test_upload_preview_and_confirm_through_the_pages(app, client, login, setup):
    login(setup["manager"])
    preview = _upload(client, setup["org"], (MK_HEADER + MK_ROWS).encode("cp1251"))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Windows-1251 (Cyrillic)" in html and "semicolon" in html and "Ѓорѓи" in html
    assert "ana.petrovska" not in preview.headers.get("Location", "")
    done = _confirm(client, setup["org"], html)
    body = done.get_data(as_text=True)
    assert done.status_code == 200, body
    assert "Staff imported" in body and "Print sign-in codes" in body
    again = _confirm(client, setup["org"], html)  # the kept file is gone once imported
    assert again.status_code == 302


def test_bad_rows_are_listed_on_the_page(app, client, login, setup):
    login(setup["manager"])
    data = MK_HEADER + "Ана;Петровска;ana@example.mk;Cohort of IMP-1\r\nМарко;Марковски;не-е-пошта;Cohort of IMP-1\r\n"
    refused = _confirm(
        client, setup["org"], _upload(client, setup["org"], data.encode("cp1251")).get_data(as_text=True)
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Nothing was imported" in body and "Row 3" in body
    with app.app_context():
        assert db.session.execute(select(func.count(Enrolment.id))).scalar_one() == 0


def test_a_bad_file_is_refused_with_a_message(client, login, setup):
    login(setup["manager"])
    response = _upload(client, setup["org"], b"\x00\x01\x02binary", name="photo.csv")
    assert response.status_code == 400 and "not a CSV or Excel file" in response.get_data(as_text=True)


def test_another_organisations_manager_cannot_import(app, client, login, setup, make_user):
    with app.app_context():
        other = Organisation(name="Other", kind="ngo")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    login(make_user("other_manager", roles=[("organisation_manager", "organisation", other_id)]))
    assert client.get(f"/catalogue/organisations/{setup['org']}/import").status_code == 403
    # A kept upload of one manager cannot be confirmed by another.
    assert client.post(f"/catalogue/organisations/{setup['org']}/import/confirm", data={}).status_code in (400, 403)


def test_a_large_file_is_imported_by_a_task_with_a_report(app, client, login, setup):
    app.config["CATALOGUE_IMPORT_SYNC_ROWS"] = 2
    login(setup["manager"])
    rows = "".join(f"Име{n};Презиме{n};;Cohort of IMP-1\r\n" for n in range(4))
    preview = _upload(client, setup["org"], (MK_HEADER + rows).encode("cp1251")).get_data(as_text=True)
    queued = _confirm(client, setup["org"], preview)
    assert queued.status_code == 302 and "/tasks/" in queued.headers["Location"]
    with app.app_context():
        assert db.session.execute(select(func.count(Enrolment.id))).scalar_one() == 0
        task = run_one("test-worker")
        assert task.status == "done", task.error
        assert db.session.execute(select(func.count(Enrolment.id))).scalar_one() == 4  # 3 seats, 1 waiting
    report = client.get(queued.headers["Location"] + "/download")
    assert report.status_code == 200 and "Име3" in report.get_data(as_text=True)
