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


def _second_browser(app, user):
    browser = app.test_client()
    login_as(browser, user)
    assert browser.get("/").status_code == 200
    return browser


def test_password_change_signs_out_other_browsers_but_not_this_one(app, client, make_user):
    from lms.models import AuditEvent

    user = make_user("mira")
    other = _second_browser(app, user)
    login_as(client, user)
    token = csrf_token(client, "/account/password")
    response = client.post(
        "/account/password",
        data={"csrf_token": token, "current": "correct horse battery staple",
              "password": "a new river of bright stones", "confirm": "a new river of bright stones"},
    )  # fmt: skip
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    logout(client)
    assert login_as(client, "mira", "a new river of bright stones").status_code == 302
    with app.app_context():
        assert AuditEvent.query.filter_by(action="auth.password_changed").count() == 1


def test_password_change_needs_the_current_password_and_a_good_new_one(app, client, make_user):
    make_user("mira")
    login_as(client, "mira")
    cases = [
        ({"current": "wrong", "password": "a new river of bright stones"}, "This is not your current password."),
        ({"current": "correct horse battery staple", "password": "password1"}, "This password is too common."),
        ({"current": "correct horse battery staple", "password": "short"}, "Use at least 8 characters."),
        ({"current": "correct horse battery staple", "password": "x" * 129}, "Use at most 128 characters."),
        ({"current": "correct horse battery staple", "password": "mira"}, "Use at least 8 characters."),
    ]
    for data, message in cases:
        token = csrf_token(client, "/account/password")
        response = client.post("/account/password", data={"csrf_token": token, "confirm": data["password"], **data})
        assert response.status_code == 200 and message in response.get_data(as_text=True), data
    token = csrf_token(client, "/account/password")
    response = client.post(
        "/account/password",
        data={"csrf_token": token, "current": "correct horse battery staple",
              "password": "a new river of bright stones", "confirm": "another river"},
    )  # fmt: skip
    assert "The two passwords are not the same." in response.get_data(as_text=True)
    logout(client)
    assert login_as(client, "mira").status_code == 302  # the old password still works


def test_deactivation_ends_every_session(app, make_user):
    from lms.auth.services import set_active
    from lms.extensions import db
    from lms.models import User

    user = make_user("mira")
    browser = _second_browser(app, user)
    with app.test_request_context():
        set_active(db.session.get(User, user.id), False)
    assert browser.get("/").status_code == 302
    assert login_as(app.test_client(), "mira").status_code == 200


def test_profile_saves_names_contacts_and_language(app, client, make_user):
    from lms.extensions import db
    from lms.models import AuditEvent, User

    user = make_user("mira")
    login_as(client, user)
    page = client.get("/account").get_data(as_text=True)
    assert "My account" in page and 'href="/account"' in page
    token = csrf_token(client, "/account")
    response = client.post(
        "/account",
        data={"csrf_token": token, "first_name": "Mira", "last_name": "Jovanović", "first_name_alt": "Мира",
              "last_name_alt": "Јовановић", "email": "mira@example.org", "phone": "+389 70 111 222", "locale": "mk"},
    )  # fmt: skip
    assert response.status_code == 302
    with app.app_context():
        saved = db.session.get(User, user.id)
        assert (saved.last_name_alt, saved.email, saved.phone, saved.locale) == (
            "Јовановић", "mira@example.org", "+38970111222", "mk"
        )  # fmt: skip
        assert AuditEvent.query.filter_by(action="user.profile_changed").count() == 1
    assert 'lang="mk"' in client.get("/account").get_data(as_text=True)


def test_profile_refuses_bad_input_and_changes_nothing(app, client, make_user):
    from lms.extensions import db
    from lms.models import User

    make_user("ana", email="ana@example.org")
    user = make_user("mira", email="mira@example.org")
    login_as(client, user)
    cases = [
        ({"email": "not an address"}, "Enter an e-mail address like name@example.org."),
        ({"email": "ANA@example.org"}, "Another account already uses this e-mail address."),
        ({"phone": "call me"}, "Enter a phone number using digits"),
        ({"first_name": ""}, "Enter your first name."),
        ({"locale": "xx"}, "Not a valid choice"),
    ]
    for change, message in cases:
        token = csrf_token(client, "/account")
        data = {"csrf_token": token, "first_name": "Mira", "last_name": "Test", "email": "mira@example.org",
                "locale": "en", **change}  # fmt: skip
        response = client.post("/account", data=data)
        assert response.status_code == 200 and message in response.get_data(as_text=True), change
    with app.app_context():
        saved = db.session.get(User, user.id)
        assert (saved.email, saved.phone, saved.first_name, saved.locale) == ("mira@example.org", None, "Mira", None)


def test_account_pages_need_sign_in_and_csrf(client, make_user):
    for path in ("/account", "/account/password", "/account/two-factor", "/auth/codes", "/auth/choose-password"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], path
    make_user("mira")
    login_as(client, "mira")
    for path in ("/account", "/account/password"):
        assert client.post(path, data={"first_name": "X", "current": "x"}).status_code == 400, path
    assert client.get("/auth/choose-password").status_code == 302  # only right after a code sign-in


def test_every_form_refuses_a_post_without_csrf_token(app, client, make_user):
    from lms.models import AuditEvent, OneTimeCode

    make_user("root", roles=[("administrator", "site", None)])
    anonymous = ["/auth/login", "/auth/reset", "/auth/reset/some-token", "/auth/welcome/some-token", "/auth/code"]
    for path in anonymous:
        response = client.post(path, data={"login": "root", "password": "x", "code": "AAAA-AAAA"})
        assert response.status_code == 400 and "This form has expired" in response.get_data(as_text=True), path
    login_as(client, "root")
    with app.app_context():
        events = AuditEvent.query.count()
    signed_in = ["/account", "/account/password", "/account/two-factor", "/auth/two-factor", "/auth/codes/sheet"]
    for path in signed_in:
        response = client.post(path, data={"code": "123456", "people": ["1"], "first_name": "X"})
        assert response.status_code == 400, path
    with app.app_context():
        assert AuditEvent.query.count() == events and OneTimeCode.query.count() == 0
