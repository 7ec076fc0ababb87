"""Invitations and password reset by e-mailed one-time links."""

import re
from datetime import timedelta

import pytest

from tests.helpers import csrf_token, login_as, logout

NEW_PASSWORD = "a new river of bright stones"


@pytest.fixture
def app_config(app_config, tmp_path):
    """Mail files go to the test's own folder."""
    return {**app_config, "MAIL_OUTBOX_DIR": str(tmp_path / "outbox")}


def _mails(app):
    from lms.models import OutboxMessage

    with app.app_context():
        return [(m.to_address, m.subject, m.body) for m in OutboxMessage.query.order_by(OutboxMessage.id)]


def _token(body: str, kind: str) -> str:
    match = re.search(rf"http://127\.0\.0\.1:5000/auth/{kind}/([A-Za-z0-9_\-]+)", body)
    assert match, body
    return match.group(1)


def _request_reset(client, identifier):
    token = csrf_token(client, "/auth/reset")
    return client.post("/auth/reset", data={"csrf_token": token, "login": identifier}, follow_redirects=True)


def _set_password(client, path, password=NEW_PASSWORD, confirm=None):
    token = csrf_token(client, path)
    return client.post(path, data={"csrf_token": token, "password": password, "confirm": confirm or password})


def test_reset_request_says_the_same_whether_or_not_the_account_exists(app, client, make_user):
    make_user("mira", email="mira@example.org")
    make_user("noemail")
    pages = [_request_reset(client, ident).get_data(as_text=True) for ident in ("mira", "nobody", "noemail")]
    message = "If this account has an e-mail address, a link to choose a new password is on its way."
    assert all(message in page for page in pages)
    assert [re.sub(r'value="[^"]+"', "", p) for p in pages[1:]] == [re.sub(r'value="[^"]+"', "", pages[0])] * 2
    mails = _mails(app)
    assert [to for to, _, _ in mails] == ["mira@example.org"]
    assert "/auth/reset/" in mails[0][2] and "mira" in mails[0][2]


def test_reset_link_sets_the_password_once_and_ends_every_other_session(app, client, make_user):
    from lms.models import AuditEvent, OneTimeCode

    make_user("mira", email="mira@example.org")
    other = app.test_client()
    login_as(other, "mira")
    _request_reset(client, "MIRA@example.org")
    token = _token(_mails(app)[0][2], "reset")
    with app.app_context():
        stored = OneTimeCode.query.one()
        assert token not in stored.code_hash and stored.purpose == "reset"
        assert timedelta(minutes=59) < stored.expires_at - stored.created_at <= timedelta(hours=1)
    assert "Choose a new password" in client.get(f"/auth/reset/{token}").get_data(as_text=True)
    response = _set_password(client, f"/auth/reset/{token}")
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # signed in here
    assert other.get("/").status_code == 302  # the other browser's session ended
    assert client.get(f"/auth/reset/{token}").status_code == 410  # single use
    logout(client)
    assert login_as(client, "mira").status_code == 200  # the old password no longer works
    assert login_as(client, "mira", NEW_PASSWORD).status_code == 302
    with app.app_context():
        assert AuditEvent.query.filter_by(action="auth.password_reset").count() == 1


def test_expired_or_unknown_reset_link_changes_nothing(app, client, make_user):
    from lms.extensions import db
    from lms.models import OneTimeCode

    make_user("mira", email="mira@example.org")
    _request_reset(client, "mira")
    token = _token(_mails(app)[0][2], "reset")
    with app.app_context():
        row = OneTimeCode.query.one()
        row.expires_at = row.created_at - timedelta(seconds=1)
        db.session.commit()
    for path in (f"/auth/reset/{token}", "/auth/reset/made-up-token"):
        response = client.get(path)
        assert response.status_code == 410 and "This link no longer works" in response.get_data(as_text=True)
        token = csrf_token(client, "/auth/reset")
        data = {"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        assert client.post(path, data=data).status_code == 410
    assert login_as(client, "mira").status_code == 302


def test_reset_form_refuses_weak_passwords_and_missing_csrf(app, client, make_user):
    make_user("mira", email="mira@example.org")
    _request_reset(client, "mira")
    path = f"/auth/reset/{_token(_mails(app)[0][2], 'reset')}"
    assert "This password is too common." in _set_password(client, path, "password123").get_data(as_text=True)
    page = _set_password(client, path, "mira@example.org").get_data(as_text=True)
    assert "The password must not be your username or e-mail address." in page
    assert "not the same" in _set_password(client, path, NEW_PASSWORD, "other").get_data(as_text=True)
    assert client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 400
    assert client.post("/auth/reset", data={"login": "mira"}).status_code == 400
    assert len(_mails(app)) == 1
    assert client.get(path).status_code == 200  # the link still works: nothing was used up
    assert login_as(client, "mira").status_code == 302


def test_invitation_mail_is_in_the_persons_language_and_lets_them_choose_a_password(app, client, make_user):
    from lms import mail
    from lms.auth.services import invite
    from lms.extensions import db
    from lms.models import AuditEvent, OneTimeCode, User

    admin = make_user("admin", roles=[("administrator", "site", None)])
    newcomer = make_user("ana", email="ana@example.org", locale="sr_Latn")
    with app.test_request_context():
        invite(db.session.get(User, newcomer.id), by=db.session.get(User, admin.id))
        sent = mail.deliver_outbox()
        stored = OneTimeCode.query.one()
        assert (stored.purpose, stored.expires_at - stored.created_at) == ("invitation", timedelta(days=7))
    assert sent == 1
    to, subject, body = _mails(app)[0]
    assert to == "ana@example.org"
    with open(f"{app.config['MAIL_OUTBOX_DIR']}/1.eml", encoding="utf-8") as fh:
        assert "To: ana@example.org" in fh.read()
    token = _token(body, "welcome")
    assert "Your username is ana." in client.get(f"/auth/welcome/{token}").get_data(as_text=True)
    assert _set_password(client, f"/auth/welcome/{token}").status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "Ana Test" in home and 'lang="sr-Latn"' in home  # signed in, in the profile's language
    assert client.get(f"/auth/welcome/{token}").status_code == 410
    with app.app_context():
        assert AuditEvent.query.filter_by(action="auth.invited").count() == 1
        assert AuditEvent.query.filter_by(action="auth.invitation_accepted").count() == 1


def test_mail_is_rendered_in_the_recipients_locale(app, monkeypatch):
    from flask_babel import get_locale

    from lms import mail
    from lms.models import User

    monkeypatch.setattr(mail, "render_template", lambda template, **context: str(get_locale()))
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert mail.render_mail(User(username="x", locale="mk"), "Subject", "any.txt")[1] == "mk"
        assert mail.render_mail(User(username="y", locale=None), "Subject", "any.txt")[1] == "en"


def test_a_second_invitation_replaces_the_first(app, make_user):
    from lms.auth.services import AuthError, invite, link_account
    from lms.extensions import db
    from lms.models import User

    admin = make_user("admin", roles=[("administrator", "site", None)])
    make_user("ana", email="ana@example.org")
    make_user("noemail")
    with app.test_request_context():
        by = db.session.get(User, admin.id)
        ana = User.query.filter_by(username="ana").one()
        first = invite(ana, by=by)
        second = invite(ana, by=by)
        assert link_account(first, "invitation") is None
        assert link_account(second, "invitation").username == "ana"
        with pytest.raises(AuthError):
            invite(User.query.filter_by(username="noemail").one(), by=by)


def test_organisation_manager_may_invite_only_their_own_members(app, make_user):
    from lms.auth.services import AuthError, invite
    from lms.extensions import db
    from lms.models import AuditEvent, OutboxMessage, User

    manager = make_user("boss", roles=[("organisation_manager", "organisation", 1)])
    make_user("own", email="own@example.org", roles=[("member", "organisation", 1)])
    make_user("other", email="other@example.org", roles=[("member", "organisation", 2)])
    with app.test_request_context():
        by = db.session.get(User, manager.id)
        invite(User.query.filter_by(username="own").one(), by=by)
        with pytest.raises(AuthError):
            invite(User.query.filter_by(username="other").one(), by=by)
        db.session.rollback()  # a fresh snapshot: the refusal was committed in its own transaction
        assert [m.to_address for m in OutboxMessage.query] == ["own@example.org"]
        assert AuditEvent.query.filter_by(action="access.denied", reason="auth.invite").count() == 1
