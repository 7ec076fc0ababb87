"""Two-factor authentication with an authenticator app."""

import re
import time

import pyotp
import pytest

from tests.helpers import csrf_token, login_as, logout


def _enrol(client) -> str:
    """Turn the authenticator on through the page, as a person would; returns the secret."""
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page
    secret = re.search(r'<code class="signin-code">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    token = csrf_token(client, "/account/two-factor")
    response = client.post("/account/two-factor", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    return secret


def _next_code(secret: str) -> str:
    """The code of the next time step (accepted for clock drift): the current one was used to turn it on."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def _code_step(client, code):
    token = csrf_token(client, "/auth/two-factor")
    return client.post("/auth/two-factor", data={"csrf_token": token, "code": code})


def test_learners_cannot_turn_on_an_authenticator(client, make_user):
    make_user("mira", roles=[("learner", "cohort", 1)])
    login_as(client, "mira")
    assert client.get("/account/two-factor").status_code == 403
    assert "Two-factor" not in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize("role", [("administrator", "site", None), ("programme_manager", "programme", 3),
                                  ("auditor", "programme", 3)])  # fmt: skip
def test_enrolment_stores_the_secret_encrypted_and_asks_for_a_code_at_sign_in(app, client, make_user, role):
    from lms.auth.totp import decrypt_secret
    from lms.extensions import db
    from lms.models import AuditEvent, User

    user = make_user("kata", roles=[role])
    login_as(client, user)
    token = csrf_token(client, "/account/two-factor")
    wrong = client.post("/account/two-factor", data={"csrf_token": token, "code": "000000"})
    assert "This code is not right." in wrong.get_data(as_text=True)
    secret = _enrol(client)
    with app.app_context():
        stored = db.session.get(User, user.id).totp_secret
        assert secret.encode() not in stored and decrypt_secret(stored) == secret
        assert AuditEvent.query.filter_by(action="auth.totp_enabled").count() == 1
    assert client.get("/").status_code == 200  # this session already proved the second factor
    logout(client)
    response = login_as(client, user)
    assert response.status_code == 302
    for path in ("/", "/account", "/account/password"):
        assert client.get(path).headers["Location"].endswith("/auth/two-factor"), path
    assert "This code is not right." in _code_step(client, "123456").get_data(as_text=True)
    assert "The code has six digits." in _code_step(client, "12ab").get_data(as_text=True)
    assert client.post("/auth/two-factor", data={"code": "123456"}).status_code == 400
    code = _next_code(secret)
    response = _code_step(client, f"{code[:3]} {code[3:]}")
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    with app.app_context():
        assert AuditEvent.query.filter_by(action="auth.totp_failed").count() == 2


def test_the_code_step_keeps_the_page_the_person_asked_for(client, make_user):
    make_user("root", roles=[("administrator", "site", None)])
    login_as(client, "root")
    secret = _enrol(client)
    logout(client)
    login_as(client, "root")
    assert client.get("/account/password").status_code == 302
    response = _code_step(client, _next_code(secret))
    assert response.headers["Location"].startswith("/account/password")


def test_turning_it_off_needs_a_code(app, client, make_user):
    from lms.extensions import db
    from lms.models import User

    user = make_user("root", roles=[("administrator", "site", None)])
    login_as(client, user)
    secret = _enrol(client)
    token = csrf_token(client, "/account/two-factor")
    assert "This code is not right." in client.post(
        "/account/two-factor", data={"csrf_token": token, "code": "000000"}
    ).get_data(as_text=True)
    response = client.post("/account/two-factor", data={"csrf_token": token, "code": _next_code(secret)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, user.id).totp_secret is None
    logout(client)
    login_as(client, user)
    assert client.get("/").status_code == 200


def test_a_code_is_accepted_once(app, make_user):
    from lms.models import AuditEvent

    make_user("root", roles=[("administrator", "site", None)])
    first = app.test_client()
    login_as(first, "root")
    secret = _enrol(first)
    with app.app_context():
        from lms.extensions import db
        from lms.models import User

        used_step = db.session.execute(db.select(User.totp_last_step).filter_by(username="root")).scalar_one()
    used_to_turn_it_on = pyotp.TOTP(secret).at(used_step * 30)
    code = _next_code(secret)
    browsers = [app.test_client(), app.test_client()]
    for browser in browsers:
        login_as(browser, "root")
    assert "This code is not right." in _code_step(browsers[0], used_to_turn_it_on).get_data(as_text=True)
    assert _code_step(browsers[0], code).status_code == 302
    # The same code seen over the shoulder, typed in another browser within its 30 seconds: refused.
    assert "This code is not right." in _code_step(browsers[1], code).get_data(as_text=True)
    assert browsers[1].get("/").headers["Location"].endswith("/auth/two-factor")
    assert browsers[0].get("/").status_code == 200
    with app.app_context():
        assert AuditEvent.query.filter_by(action="auth.totp_failed").count() == 2


def test_matching_step_accepts_one_step_of_drift_only():
    from lms.auth.totp import matching_step

    secret = pyotp.random_base32()
    generator = pyotp.TOTP(secret)
    now = 1_800_000_000.0
    step = int(now // 30)
    assert matching_step(secret, generator.at(now), for_time=now) == step
    assert matching_step(secret, generator.at(now - 30), for_time=now) == step - 1
    assert matching_step(secret, generator.at(now + 30), for_time=now) == step + 1
    assert matching_step(secret, generator.at(now + 60), for_time=now) is None
    assert matching_step(secret, "12 34 5a", for_time=now) is None


@pytest.fixture
def required_for_administrators(app_config):
    app_config["REQUIRE_2FA_ROLES"] = ["administrator"]


def test_required_but_not_enrolled_people_are_sent_to_set_it_up(required_for_administrators, app, client, make_user):
    make_user("root", roles=[("administrator", "site", None)])
    make_user("mira")
    login_as(client, "mira")
    assert client.get("/").status_code == 200  # not required of everyone
    logout(client)
    login_as(client, "root")
    for path in ("/", "/account", "/auth/codes"):
        assert client.get(path).headers["Location"].endswith("/account/two-factor"), path
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "Your account must use two-factor authentication." in page
    secret = _enrol(client)
    assert client.get("/").status_code == 200
    token = csrf_token(client, "/account/two-factor")
    response = client.post("/account/two-factor", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200 and "cannot be turned off" in response.get_data(as_text=True)


def test_administrators_can_require_it_per_person_or_per_role(app, client, make_user):
    from lms.auth.services import set_required_2fa_roles
    from lms.extensions import db
    from lms.models import User

    make_user("pm", roles=[("programme_manager", "programme", 1)], totp_required=True)
    make_user("aud", roles=[("auditor", "programme", 1)])
    login_as(client, "pm")
    assert client.get("/").headers["Location"].endswith("/account/two-factor")
    client = app.test_client()
    login_as(client, "aud")
    assert client.get("/").status_code == 200
    with app.test_request_context():
        set_required_2fa_roles(["auditor"])
        assert db.session.get(User, 2).username == "aud"
    assert client.get("/").headers["Location"].endswith("/account/two-factor")


def test_api_calls_answer_by_token_while_the_browser_waits_for_its_second_factor(
    required_for_administrators, app, client, make_user
):
    from tests.lms.test_api import make_token

    root = make_user("root", roles=[("administrator", "site", None)])
    _token_id, secret = make_token(app, root)
    login_as(client, "root")  # this browser's session now waits for the second factor
    assert client.get("/").headers["Location"].endswith("/account/two-factor")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and response.get_json()["username"] == "root"
