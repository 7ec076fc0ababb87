"""An organisation manager imports staff from a Windows-1251, semicolon-separated file, as Excel saves it here.

The file with one bad row is refused whole, naming the row; the corrected file enrols everyone. Every page
visited passes the axe-core, CSP and console checks of ``BrowserPage.check``.
"""

import pytest
from sqlalchemy import func, select

from courses.catalogue.models import Cohort, Enrolment
from lms.extensions import db
from lms.models import Membership, Organisation, User

pytestmark = pytest.mark.browser

HEADER = "Име;Презиме;Е-пошта;Група\r\n"
ROWS = [
    "Ана;Петровска;ana.petrovska@csw.example.mk;Skopje 1 – mentors\r\n",
    "Ѓорѓи;Ќосев;;Skopje 1 – mentors\r\n",
]
GOOD_FILE = (HEADER + "".join(ROWS) + "Љупка;Најдовска;ljupka@csw.example.mk;Skopje 1 – mentors\r\n").encode("cp1251")
# Row 4 (the header is row 1) has a mistyped e-mail address.
BAD_FILE = (HEADER + "".join(ROWS) + "Љупка;Најдовска;ljupka(at)csw.example.mk;Skopje 1 – mentors\r\n").encode("cp1251")


def _counts(app, manager_username):
    """The manager's organisation, and how many of the file's people are its staff and enrolled."""
    with app.app_context():
        organisation = db.session.execute(
            select(Organisation).join(Membership, Membership.scope_id == Organisation.id)
            .join(User, User.id == Membership.user_id)
            .where(User.username == manager_username, Membership.role == "organisation_manager")
        ).scalar_one()  # fmt: skip
        imported = (
            select(User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.scope_id == organisation.id, Membership.role == "member",
                   User.first_name.in_(["Ана", "Ѓорѓи", "Љупка"]))
        )  # fmt: skip
        people = db.session.execute(select(func.count()).select_from(imported.subquery())).scalar_one()
        enrolled = db.session.execute(
            select(func.count(Enrolment.id))
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(Enrolment.user_id.in_(imported), Enrolment.sponsor_id == organisation.id,
                   Cohort.name == "Skopje 1 – mentors", Enrolment.status == "enrolled")
        ).scalar_one()  # fmt: skip
        return organisation.id, people, enrolled


def _upload_and_confirm(browser_page, server, locale, data: bytes):
    page = browser_page.page
    page.get_by_label(server.translate(locale, "Staff file (CSV or Excel .xlsx)")).set_input_files(
        files=[{"name": "вработени.csv", "mimeType": "text/csv", "buffer": data}]
    )
    page.get_by_role("button", name=server.translate(locale, "Upload and preview")).click()
    page.wait_for_load_state("load")
    browser_page.check()
    main = page.get_by_role("main")
    assert "Windows-1251" in main.inner_text() and "Ѓорѓи" in main.inner_text()
    # The columns were recognised from the Macedonian header words.
    assert page.get_by_label(server.translate(locale, "Column %(number)s: %(name)s", number=3, name="Е-пошта")
                             ).input_value() == "email"  # fmt: skip
    page.get_by_role("button", name=server.translate(locale, "Import and enrol")).click()
    page.wait_for_load_state("load")
    browser_page.check()


def test_organisation_manager_imports_staff_all_or_nothing(browser_page, live_server):
    account = next(a for a in live_server.accounts if a["username"] == "orgmgr.csw")
    locale = account["locale"]
    organisation_id, people, enrolled = _counts(live_server.app, account["username"])
    assert (people, enrolled) == (0, 0)
    browser_page.login(account)
    page = browser_page.page
    browser_page.goto(f"/catalogue/organisations/{organisation_id}/staff")
    page.get_by_role("link", name=live_server.translate(locale, "Import staff from a file")).click()
    page.wait_for_load_state("load")
    browser_page.check()

    browser_page.expected_failures.add(live_server.url + f"/catalogue/organisations/{organisation_id}/import/confirm")
    _upload_and_confirm(browser_page, live_server, locale, BAD_FILE)
    alert = page.get_by_role("alert")
    assert live_server.translate(locale, "Nothing was imported") in alert.inner_text()
    assert live_server.translate(locale, "Row %(number)s", number=4) in alert.inner_text()
    assert "ljupka(at)csw.example.mk" in alert.inner_text()
    assert _counts(live_server.app, account["username"])[1:] == (0, 0)  # refused whole

    page.get_by_role("link", name=live_server.translate(locale, "Upload another file")).click()
    page.wait_for_load_state("load")
    browser_page.check()
    _upload_and_confirm(browser_page, live_server, locale, GOOD_FILE)
    assert page.get_by_role("heading", level=1).inner_text() == live_server.translate(locale, "Staff imported")
    assert page.get_by_role("button", name=live_server.translate(locale, "Print sign-in codes")).is_visible()
    assert _counts(live_server.app, account["username"])[1:] == (3, 3)

    page.get_by_role("link", name=live_server.translate(locale, "See our staff and their enrolments")).click()
    page.wait_for_load_state("load")
    browser_page.check()
    staff = page.get_by_role("main").inner_text()
    assert "Ана Петровска" in staff and "Ѓорѓи Ќосев" in staff and "Љупка Најдовска" in staff
