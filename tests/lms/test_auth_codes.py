"""Printable one-time sign-in codes for people without e-mail."""

import re
from datetime import timedelta

import pytest

from tests.helpers import csrf_token, login_as, logout

CODE = re.compile(r"\b([34679ACDEFGHJKMNPQRTUVWXY]{4}-[34679ACDEFGHJKMNPQRTUVWXY]{4})\b")


@pytest.fixture
def org_people(make_user):
    """A manager of organisation 1, two of its members, a member who is also a trainer, another organisation's member."""
    return {
        "boss": make_user("boss", roles=[("organisation_manager", "organisation", 1)]),
        "ana": make_user("ana", first_name="Ana", first_name_alt="Ана", roles=[("member", "organisation", 1)]),
        "ben": make_user("ben", roles=[("member", "organisation", 1)]),
        "tina": make_user("tina", roles=[("member", "organisation", 1), ("trainer", "cohort", 5)]),
        "otto": make_user("otto", roles=[("member", "organisation", 2)]),
    }


def _listed(page: str) -> set[str]:
    return {name.strip() for name in re.findall(r'<th scope="row">([^<(]+)', page)}


def _issue(client, *people, path="/auth/codes/sheet"):
    token = csrf_token(client, "/auth/codes")
    return client.post(path, data={"csrf_token": token, "people": [p.id for p in people]})


def _sign_in_with_code(client, code, login=""):
    token = csrf_token(client, "/auth/code")
    return client.post("/auth/code", data={"csrf_token": token, "code": code, "login": login})


def test_manager_lists_only_their_organisations_members(client, org_people):
    login_as(client, org_people["boss"])
    page = client.get("/auth/codes").get_data(as_text=True)
    assert "Sign-in codes" in page and 'href="/auth/codes"' in page  # page and navigation
    # Tina holds a role beyond member (only administrators may); Otto is another organisation's; Boss is oneself.
    assert _listed(page) == {"Ana Test", "Ben Test"}


def test_people_who_may_not_issue_codes_are_refused(app, client, org_people):
    from lms.models import AuditEvent

    login_as(client, org_people["ana"])
    assert 'href="/auth/codes"' not in client.get("/").get_data(as_text=True)
    assert client.get("/auth/codes").status_code == 403
    with app.app_context():
        assert AuditEvent.query.filter_by(action="access.denied", reason="auth.issue_codes").count() == 1


def test_issued_code_signs_in_once_then_offers_a_password(app, client, org_people):
    from lms.models import AuditEvent, OneTimeCode

    login_as(client, org_people["boss"])
    response = _issue(client, org_people["ana"], org_people["ben"])
    sheet = response.get_data(as_text=True)
    assert response.status_code == 200 and "Sign-in code sheet" in sheet and "Ана" in sheet
    codes = CODE.findall(sheet)
    assert len(codes) == 2 and "/auth/code" in sheet
    with app.app_context():
        rows = OneTimeCode.query.filter_by(purpose="signin").all()
        assert len(rows) == 2 and all(r.expires_at - r.created_at == timedelta(days=14) for r in rows)
        assert not any(code.replace("-", "") in r.code_hash for code in codes for r in rows)
        assert AuditEvent.query.filter_by(action="auth.signin_code_issued").count() == 2
    logout(client)
    typed = codes[0].lower().replace("-", " ")  # small letters and a space work too
    response = _sign_in_with_code(client, typed)
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/choose-password")
    assert "Choose a password" in client.get("/auth/choose-password").get_data(as_text=True)
    assert "Ana Test" in client.get("/").get_data(as_text=True)
    logout(client)
    response = _sign_in_with_code(client, codes[0])
    assert response.status_code == 200 and "This code does not work" in response.get_data(as_text=True)
    with app.app_context():
        assert AuditEvent.query.filter_by(action="auth.login", reason="code").count() == 1
        assert AuditEvent.query.filter_by(action="auth.code_failed").count() == 1


def test_choosing_a_password_after_a_code(client, org_people):
    login_as(client, org_people["boss"])
    code = CODE.findall(_issue(client, org_people["ben"]).get_data(as_text=True))[0]
    logout(client)
    _sign_in_with_code(client, code, login="ben")
    token = csrf_token(client, "/auth/choose-password")
    weak = client.post(
        "/auth/choose-password", data={"csrf_token": token, "password": "qwerty123", "confirm": "qwerty123"}
    )
    assert "This password is too common." in weak.get_data(as_text=True)
    good = "ben learns to weld in valjevo"
    response = client.post("/auth/choose-password", data={"csrf_token": token, "password": good, "confirm": good})
    assert response.status_code == 302
    assert client.get("/auth/choose-password").status_code == 302  # offered once
    logout(client)
    assert login_as(client, "ben", good).status_code == 302


def test_code_with_the_wrong_username_or_expired_is_refused(app, client, org_people):
    from lms.extensions import db
    from lms.models import OneTimeCode

    login_as(client, org_people["boss"])
    first, second = CODE.findall(_issue(client, org_people["ana"], org_people["ben"]).get_data(as_text=True))
    logout(client)
    assert _sign_in_with_code(client, first, login="ben").status_code == 200
    with app.app_context():
        for row in OneTimeCode.query.filter_by(purpose="signin"):
            row.expires_at = row.created_at
        db.session.commit()
    assert _sign_in_with_code(client, second).status_code == 200
    assert client.get("/").status_code == 302
    assert "Enter the code" in _sign_in_with_code(client, "").get_data(as_text=True)


def test_a_new_code_replaces_the_unused_one(client, org_people):
    login_as(client, org_people["boss"])
    old = CODE.findall(_issue(client, org_people["ana"]).get_data(as_text=True))[0]
    new = CODE.findall(_issue(client, org_people["ana"]).get_data(as_text=True))[0]
    logout(client)
    assert _sign_in_with_code(client, old).status_code == 200
    assert _sign_in_with_code(client, new).status_code == 302


def test_manager_cannot_issue_for_someone_outside_their_list(app, client, org_people):
    from lms.models import OneTimeCode

    login_as(client, org_people["boss"])
    for outsider in (org_people["otto"], org_people["tina"], org_people["boss"]):
        response = _issue(client, outsider)
        assert response.status_code == 200 and "Choose people from the list only." in response.get_data(as_text=True)
    response = _issue(client)
    assert "Choose at least one person." in response.get_data(as_text=True)
    assert client.post("/auth/codes/sheet", data={"people": [org_people["ana"].id]}).status_code == 400
    assert client.get("/auth/codes/sheet").status_code == 302
    with app.app_context():
        assert OneTimeCode.query.count() == 0


def test_issue_service_refuses_everything_when_one_person_is_not_allowed(app, org_people):
    from lms.auth.services import AuthError, issue_signin_codes
    from lms.extensions import db
    from lms.models import OneTimeCode, User

    with app.test_request_context():
        boss = db.session.get(User, org_people["boss"].id)
        ana, otto = db.session.get(User, org_people["ana"].id), db.session.get(User, org_people["otto"].id)
        with pytest.raises(AuthError):
            issue_signin_codes([ana, otto], by=boss)
        assert OneTimeCode.query.count() == 0
        pairs = issue_signin_codes([ana], by=boss)
        assert [(user.username, bool(CODE.fullmatch(code))) for user, code in pairs] == [("ana", True)]


def test_administrator_may_issue_for_anyone_and_filter_by_organisation(app, client, make_user, org_people):
    from lms.extensions import db
    from lms.models import Organisation

    with app.app_context():
        db.session.add_all([Organisation(id=1, name="One", kind="ngo"), Organisation(id=2, name="Two", kind="ngo")])
        db.session.commit()
    make_user("root", roles=[("administrator", "site", None)])
    login_as(client, "root")
    page = client.get("/auth/codes").get_data(as_text=True)
    assert _listed(page) == {"Ana Test", "Ben Test", "Tina Test", "Otto Test", "Boss Test"}
    assert _listed(client.get("/auth/codes?organisation=2").get_data(as_text=True)) == {"Otto Test"}
    assert client.get("/auth/codes?organisation=abc").status_code == 404
    sheet = _issue(client, org_people["tina"], path="/auth/codes/sheet").get_data(as_text=True)
    assert len(CODE.findall(sheet)) == 1
