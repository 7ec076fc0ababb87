"""Security headers, cookies, the production secret, CSRF, open redirects through ``next``, error pages."""

import secrets
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale
from flask_babel import gettext as _

from lms import create_app
from lms.access import requires
from lms.extensions import db
from lms.models import AuditEvent, User
from tests.helpers import create_user, csrf_token, login_as
from tests.lms.test_i18n import TRANSLATIONS, compiled_catalogues  # noqa: F401  (compiles stale .mo files)

# Known ways to smuggle another site past a "starts with /" check. Each is the value the server
# receives (already URL-decoded). Literal percent-escapes such as "/%2F%2Fx.com" are paths on this
# site in every browser (they are not decoded in a Location header), so they may be followed.
REDIRECT_PAYLOADS = [
    "//x.com",
    "////x.com",
    "///x.com/%2e%2e",
    "/\\x.com",
    "\\/x.com",
    "\\\\x.com",
    "/\\\\x.com",
    "/\\/x.com",
    "/\t/x.com",
    "/\n/x.com",
    "/\r\n/x.com",
    "/ /x.com",
    " //x.com",
    "/\x00/x.com",
    "/%09/x.com",
    "/%2F%2Fx.com",
    "/%5Cx.com",
    "https://x.com",
    "HtTpS://x.com",
    "http:x.com",
    "https:/x.com",
    "http:\\\\x.com",
    "//x.com@pathways.example",
    "/\\x.com@pathways.example",
    "x.com",
    ".x.com",
    "/.x.com",
    "@x.com",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "\r\nLocation: https://x.com",
    "/\r\nLocation: https://x.com",
    "\u3031x.com",  # 〱 (vertical kana repeat mark), read as "//" by some parsers
    "\uff0f\uff0fx.com",  # fullwidth solidus
    "/\uff0fx.com",
    "\u2215\u2215x.com",  # division slash
    "/\u3002x.com",
    "/.//x.com",
    "/%2e%2e//x.com",
]
SAFE_TARGETS = ["/account?x=1", "/courses/3#lessons", "/", "/a/b/c?next=%2F%2Fx.com"]


def assert_same_site(location: str) -> None:
    """A path on this site: one slash then neither slash nor backslash, and no host or scheme."""
    assert location.startswith("/"), location
    assert location == "/" or location[1] not in "/\\", location
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc, location
    assert not any(ord(c) < 0x21 or c == "\x7f" for c in location), location


def test_security_headers_on_every_kind_of_response(app, client):
    from lms.security import CONTENT_SECURITY_POLICY

    responses = {
        "html": client.get("/auth/login"),
        "redirect": client.get("/"),
        "json": client.get("/healthz"),
        "not found": client.get("/no-such-page"),
        "api error": client.get("/api/no-such-endpoint"),
        "wrong method": client.put("/auth/login"),
        "static": client.get("/static/css/pathways.css"),
    }
    assert responses["static"].status_code == 200
    assert responses["not found"].status_code == 404
    for kind, response in responses.items():
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert csp == CONTENT_SECURITY_POLICY, kind
        directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, kind
        assert directives["frame-ancestors"] == ["'none'"], kind
        assert directives["script-src"] == ["'self'"] and directives["object-src"] == ["'none'"], kind
        assert headers["X-Content-Type-Options"] == "nosniff", kind
        assert headers["Referrer-Policy"] in {"same-origin", "no-referrer", "strict-origin-when-cross-origin"}, kind
        assert headers["X-Frame-Options"] == "DENY", kind
        assert "Strict-Transport-Security" not in headers, kind  # only production runs behind HTTPS
    assert responses["html"].headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    make_user("mira")
    response = login_as(client, "mira")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("pathways_session="))
    flags = {flag.strip().lower() for flag in cookie.split(";")[1:]}
    assert "httponly" in flags and "samesite=lax" in flags
    assert "secure" not in flags  # development and tests run on plain http


def test_production_cookie_is_secure_and_hsts_is_sent(app_config, monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    production = create_app({**app_config, "ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48)})
    with production.app_context():
        create_user("mira")
    client = production.test_client()
    response = login_as(client, "mira")
    assert response.status_code == 302
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("pathways_session="))
    flags = {flag.strip().lower() for flag in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax"} <= flags
    hsts = client.get("/auth/login").headers["Strict-Transport-Security"]
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= 31536000
    with production.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("secret", [None, "", "short-secret"])
def test_production_refuses_to_start_without_a_real_secret_key(app_config, monkeypatch, secret):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="LMS_SECRET_KEY"):
        create_app({**app_config, "ENV": "production", "SECRET_KEY": secret})


def _translated(app, locale: str, message: str) -> str:
    """``message`` as the locale's catalogue (the .po file) words it; the English while it is untranslated."""
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        entry = read_po(handle).get(message)
    expected = (entry and entry.string) or message
    with app.test_request_context(), force_locale(locale):
        assert _(message) == expected, f"the compiled {locale} catalogue is out of date"
    return expected


CSRF_MESSAGE = "This form has expired or was sent from another site. Please try again."


@pytest.mark.parametrize("locale", ["en", "mk"])
def test_forms_without_csrf_token_are_refused_and_change_nothing(app, client, make_user, locale):
    make_user("mira", locale=locale)
    expected = _translated(app, locale, CSRF_MESSAGE)
    headers = {"Accept-Language": locale}

    response = client.post(
        "/auth/login", data={"login": "mira", "password": "correct horse battery staple"}, headers=headers
    )
    assert response.status_code == 400 and expected in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not signed in
    with app.app_context():
        assert AuditEvent.query.filter_by(action="auth.login").count() == 0

    login_as(client, "mira")
    response = client.post("/language", data={"locale": "ro", "next": "/"}, headers=headers)
    assert response.status_code == 400 and expected in response.get_data(as_text=True)
    response = client.post("/auth/logout", data={}, headers=headers)
    assert response.status_code == 400 and expected in response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # still signed in
    with app.app_context():
        assert db.session.execute(db.select(User.locale).filter_by(username="mira")).scalar_one() == locale


def test_language_with_a_token_does_change(app, client, make_user):
    """The refusals above are the CSRF check, not a broken form."""
    make_user("mira")
    login_as(client, "mira")
    token = csrf_token(client, "/")
    client.post("/language", data={"locale": "ro", "next": "/", "csrf_token": token})
    with app.app_context():
        assert db.session.execute(db.select(User.locale).filter_by(username="mira")).scalar_one() == "ro"


def _login_location(app, username: str, target: str) -> str:
    client = app.test_client()
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        data={"login": username, "password": "correct horse battery staple", "next": target, "csrf_token": token},
    )
    assert response.status_code == 302, target
    return response.headers["Location"]


def test_next_after_login_never_leaves_the_site(app):
    # One account per payload: the per-account login limit must not be what stops a redirect.
    with app.app_context():
        usernames = [create_user(f"user{i}").username for i in range(len(REDIRECT_PAYLOADS))]
    for username, payload in zip(usernames, REDIRECT_PAYLOADS, strict=True):
        location = _login_location(app, username, payload)
        assert_same_site(location)
        if payload.startswith(("/%", "/.x")):  # literal escapes and dots are paths here; kept as given
            assert location == payload
        elif not payload.startswith("/") or payload[1] in "/\\\t\n\r \x00":
            assert location == "/", f"{payload!r} -> {location!r}"


def test_next_after_login_goes_to_a_safe_target(app):
    with app.app_context():
        usernames = [create_user(f"safe{i}").username for i in range(len(SAFE_TARGETS))]
    for username, target in zip(usernames, SAFE_TARGETS, strict=True):
        assert _login_location(app, username, target) == target


def test_next_for_a_signed_in_visitor_and_the_language_switcher_never_leaves_the_site(client, make_user):
    make_user("mira")
    login_as(client, "mira")
    token = csrf_token(client, "/")
    for payload in REDIRECT_PAYLOADS:
        response = client.get("/auth/login", query_string={"next": payload})
        assert response.status_code == 302
        assert_same_site(response.headers["Location"])
        response = client.post("/language", data={"locale": "en", "next": payload, "csrf_token": token})
        assert response.status_code == 302
        assert_same_site(response.headers["Location"])


@pytest.fixture
def error_app(app_config):
    """The app with test-only routes: one no signed-in person may open, one that fails."""
    app_config["PROPAGATE_EXCEPTIONS"] = False  # answer as production does instead of raising into the test
    application = create_app(app_config)

    @requires("test.nobody_may")
    def forbidden():
        return "secret"

    def broken():
        raise RuntimeError("database password is hunter2")

    application.add_url_rule("/test-only/forbidden", "test_forbidden", forbidden)
    application.add_url_rule("/test-only/broken", "test_broken", requires("core.health")(broken))
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("locale", ["en", "mk", "sr_Latn"])
def test_forbidden_page_is_in_the_persons_language(error_app, locale):
    with error_app.app_context():
        create_user("mira", locale=locale)
    client = error_app.test_client()
    login_as(client, "mira")
    response = client.get("/test-only/forbidden")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert f'<html lang="{locale.replace("_", "-")}">' in html
    assert f"<h1>{_translated(error_app, locale, 'You do not have permission to open this page.')}</h1>" in html
    assert "secret" not in html
    with error_app.app_context():
        assert AuditEvent.query.filter_by(action="access.denied").count() == 1


def test_missing_page_in_macedonian_from_accept_language(error_app):
    response = error_app.test_client().get("/no-such-page", headers={"Accept-Language": "mk-MK,mk;q=0.9,en;q=0.5"})
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert '<html lang="mk">' in html
    message = _translated(error_app, "mk", "We could not find this page.")
    assert f"<h1>{message}</h1>" in html


def test_a_failing_view_gives_the_error_page_not_a_traceback(error_app):
    response = error_app.test_client().get("/test-only/broken", headers={"Accept-Language": "mk"})
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Content-Security-Policy" in response.headers
    assert _translated(error_app, "mk", "Something went wrong on our side. Please try again later.") in html
    assert "Traceback" not in html and "hunter2" not in html and "RuntimeError" not in html


def test_api_errors_are_json_not_html(error_app):
    response = error_app.test_client().get("/api/no-such-endpoint")
    assert response.status_code == 404
    assert response.is_json and response.get_json()["status"] == 404
