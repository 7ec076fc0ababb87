"""Signing in and out, and sessions that end on the server."""

from tests.helpers import csrf_token, login_as, logout


def test_login_with_username_email_or_phone(client, make_user):
    make_user("mira", email="mira@example.org", phone="+38970123456")
    for identifier in ("mira", "MIRA@example.org", "+389 70 123 456"):
        response = login_as(client, identifier)
        assert response.status_code == 302, identifier
        assert "Welcome, Mira Test" in client.get("/").get_data(as_text=True)
        logout(client)


def test_wrong_password_is_refused_and_audited(client, make_user, app):
    from lms.models import AuditEvent

    make_user("mira")
    response = login_as(client, "mira", "not the password")
    assert response.status_code == 200
    assert "The sign-in details are not right" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    with app.app_context():
        assert AuditEvent.query.filter_by(action="auth.login_failed").count() == 1


def test_cookie_captured_before_logout_does_not_work_after(app, make_user):
    make_user("mira")
    browser = app.test_client()
    login_as(browser, "mira")
    stolen = browser.get_cookie("pathways_session").value
    logout(browser)
    attacker = app.test_client()
    attacker.set_cookie("pathways_session", stolen)
    response = attacker.get("/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_logout_needs_csrf_token(client, make_user):
    make_user("mira")
    login_as(client, "mira")
    assert client.post("/auth/logout", data={}).status_code in (400, 302)
    assert client.get("/").status_code == 200  # still signed in
    token = csrf_token(client, "/")
    client.post("/auth/logout", data={"csrf_token": token})
    assert client.get("/").status_code == 302
