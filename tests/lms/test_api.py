"""The /api/v1 API: personal tokens made on the account page or the command line, scopes, errors, OpenAPI."""

import re
from datetime import timedelta

import pytest

from tests.helpers import csrf_token, login_as

TOKEN_PATTERN = re.compile(r'id="new-token"[^>]*value="(pwy_[0-9a-f]{8}_[A-Za-z0-9_-]+)"')


def create_token_on_page(client, name="script", scopes=("me:read",), days=30):
    """Create a token through the account page, as a person would; returns (response, secret)."""
    token = csrf_token(client, "/account/tokens")
    response = client.post(
        "/account/tokens", data={"csrf_token": token, "name": name, "scopes": list(scopes), "days": str(days)}
    )
    match = TOKEN_PATTERN.search(response.get_data(as_text=True))
    return response, match.group(1) if match else None


def bearer(secret, **headers):
    """Request headers carrying a token."""
    return {"Authorization": f"Bearer {secret}", **headers}


def make_token(app, user, scopes=("me:read",), days=30, name="script"):
    """A token made directly through the service (for tests about the API rather than the page)."""
    from lms.api.auth import scopes as known
    from lms.api.services import create_token
    from lms.extensions import db
    from lms.models import User

    with app.app_context(), app.test_request_context():
        owner = db.session.get(User, user.id)
        token, secret = create_token(owner, name=name, scopes=scopes, days=days, known_scopes=known())
        return token.id, secret


def test_token_lifecycle_on_the_account_page(client, make_user, app):
    make_user("mira", email="mira@example.org", roles=[("trainer", "cohort", 3)])
    login_as(client, "mira")
    assert 'href="/account/tokens"' in client.get("/account").get_data(as_text=True)

    response, secret = create_token_on_page(client, name="attendance export", scopes=("me:read",))
    assert response.status_code == 200 and secret
    assert "It will not be shown again" in response.get_data(as_text=True)
    prefix = secret.split("_")[1]

    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "attendance export" in listing and f"pwy_{prefix}_" in listing
    assert secret not in listing  # the secret is never shown again, only its prefix
    with app.app_context():
        from lms.models import ApiToken

        stored = ApiToken.query.one()
        assert stored.token_hash != secret and len(stored.token_hash) == 64 and secret not in stored.token_hash

    me = client.get("/api/v1/me", headers=bearer(secret))
    assert me.status_code == 200
    body = me.get_json()
    assert body["username"] == "mira" and body["email"] == "mira@example.org"
    assert body["roles"] == [{"role": "trainer", "scope_type": "cohort", "scope_id": 3}]
    assert "Never" not in client.get("/account/tokens").get_data(as_text=True)  # last use is recorded

    token_id = stored.id
    revoke = client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/account/tokens")}
    )
    assert revoke.status_code == 302
    assert "Revoked" in client.get("/account/tokens").get_data(as_text=True)

    refused = client.get("/api/v1/me", headers=bearer(secret))
    assert refused.status_code == 401
    assert refused.get_json() == {"error": "This token has been revoked.", "status": 401}
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    with app.app_context():
        from lms.models import AuditEvent

        actions = [e.action for e in AuditEvent.query.order_by(AuditEvent.seq)]
        assert "api.token_created" in actions and "api.token_revoked" in actions and "api.token_refused" in actions


def test_bad_token_form_changes_nothing(client, make_user, app):
    make_user("mira")
    login_as(client, "mira")
    response, secret = create_token_on_page(client, name="", scopes=(), days=400)
    page = response.get_data(as_text=True)
    assert secret is None
    assert "Choose at least one scope." in page and "Enter a number from 1 to 365." in page
    response, secret = create_token_on_page(client, scopes=("me:read", "made:up"))
    assert secret is None and "is not a valid choice" in response.get_data(as_text=True)
    with app.app_context():
        from lms.models import ApiToken

        assert ApiToken.query.count() == 0


def test_token_pages_need_sign_in_and_show_only_own_tokens(app, make_user):
    ana = make_user("ana")
    make_user("boris")
    ana_id, _secret = make_token(app, ana, name="ana's report script")

    anonymous = app.test_client()
    assert anonymous.get("/account/tokens").status_code == 302

    boris = app.test_client()
    login_as(boris, "boris")
    assert "ana's report script" not in boris.get("/account/tokens").get_data(as_text=True)
    token = csrf_token(boris, "/account/tokens")
    assert boris.post(f"/account/tokens/{ana_id}/revoke", data={"csrf_token": token}).status_code == 403
    with app.app_context():
        from lms.extensions import db
        from lms.models import ApiToken

        assert db.session.get(ApiToken, ana_id).revoked_at is None


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Send a personal access token"),
        ("Bearer", "Send a personal access token"),
        ("Basic bWlyYTpwdw==", "Send a personal access token"),
        ("Bearer pwy_00000000_notarealtoken", "This token is not valid"),
        ("Bearer garbage", "This token is not valid"),
    ],
)
def test_missing_or_unknown_token_is_401_json(client, header, message):
    response = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    body = response.get_json()
    assert body["status"] == 401 and body["error"].startswith(message)
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="Pathways API"')


def test_expired_token_and_deactivated_owner_are_refused(app, client, make_user):
    from lms.extensions import db
    from lms.models import ApiToken, User

    mira = make_user("mira")
    token_id, secret = make_token(app, mira)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    with app.app_context():
        token = db.session.get(ApiToken, token_id)
        token.expires_at = token.created_at - timedelta(seconds=1)
        db.session.commit()
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 401 and "expired" in response.get_json()["error"]

    _id, fresh = make_token(app, mira)
    with app.app_context():
        db.session.get(User, mira.id).active = False
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(fresh)).status_code == 401


def test_wrong_scope_is_403_and_audited(app, client, make_user):
    mira = make_user("mira")
    _id, secret = make_token(app, mira, scopes=("tokens:write",))
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 403
    assert response.get_json() == {"error": "This token does not have the scope me:read.", "status": 403}
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    with app.app_context():
        from lms.models import AuditEvent

        assert AuditEvent.query.filter_by(action="access.denied").count() == 1


def test_token_cannot_touch_another_persons_token(app, client, make_user):
    ana, boris = make_user("ana"), make_user("boris")
    ana_id, ana_secret = make_token(app, ana)
    _id, boris_secret = make_token(app, boris, scopes=("tokens:write",))
    response = client.delete(f"/api/v1/tokens/{ana_id}", headers=bearer(boris_secret))
    assert response.status_code == 403
    assert client.get("/api/v1/me", headers=bearer(ana_secret)).status_code == 200
    assert client.delete("/api/v1/tokens/999999", headers=bearer(boris_secret)).status_code == 404


def test_a_script_can_revoke_its_own_token(app, client, make_user):
    mira = make_user("mira")
    token_id, secret = make_token(app, mira, scopes=("me:read", "tokens:write"))
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=bearer(secret)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_cookie_session_cannot_call_the_api(app, client, make_user):
    make_user("mira")
    login_as(client, "mira")
    token = csrf_token(client, "/account/tokens")
    for response in (
        client.get("/api/v1/me"),
        client.patch("/api/v1/me", json={"locale": "mk"}, headers={"X-CSRFToken": token}),
    ):
        assert response.status_code == 401
    with app.app_context():
        from lms.models import User

        assert User.query.filter_by(username="mira").one().locale is None


def test_write_with_bad_input_is_400_and_changes_nothing(app, client, make_user):
    from lms.extensions import db
    from lms.models import User

    mira = make_user("mira")
    _id, secret = make_token(app, mira, scopes=("me:read", "me:write"))
    headers = bearer(secret, **{"Content-Type": "application/json"})

    malformed = client.patch("/api/v1/me", data="{not json", headers=headers)
    assert malformed.status_code == 400
    assert malformed.get_json() == {"error": "The request body is not valid JSON.", "status": 400}
    assert client.patch("/api/v1/me", data="[1, 2]", headers=headers).status_code == 400

    unknown = client.patch("/api/v1/me", json={"locale": "mk", "is_admin": True}, headers=bearer(secret))
    assert unknown.status_code == 400
    assert unknown.get_json()["fields"] == {"is_admin": "This field is not known."}
    wrong = client.patch("/api/v1/me", json={"locale": "xx"}, headers=bearer(secret))
    assert wrong.status_code == 400 and "Must be one of" in wrong.get_json()["fields"]["locale"]
    missing = client.patch("/api/v1/me", json={}, headers=bearer(secret))
    assert missing.get_json()["fields"] == {"locale": "This field is required."}
    with app.app_context():
        assert db.session.get(User, mira.id).locale is None

    changed = client.patch("/api/v1/me", json={"locale": "mk"}, headers=bearer(secret))
    assert changed.status_code == 200 and changed.get_json()["locale"] == "mk"


def test_errors_follow_the_owners_language_or_accept_language(app, client, make_user):
    response = client.get("/api/v1/me", headers={"Accept-Language": "sr-Latn-RS"})
    assert response.status_code == 401 and response.headers["Content-Language"] == "sr-Latn"

    mira = make_user("mira", locale="mk")
    _id, secret = make_token(app, mira, scopes=("tokens:write",))
    refused = client.get("/api/v1/me", headers=bearer(secret, **{"Accept-Language": "en"}))
    assert refused.status_code == 403 and refused.headers["Content-Language"] == "mk"
    with app.test_request_context(headers={"Accept-Language": "mk"}):
        from flask_babel import gettext

        assert refused.get_json()["error"] == gettext("This token does not have the scope %(scope)s.", scope="me:read")


def test_requests_per_token_are_limited(app_config, make_user):
    from lms import create_app

    app_config["API_RATE_LIMIT"] = "2 per minute"
    app = create_app(app_config)
    from tests.helpers import create_user

    with app.app_context():
        mira = create_user("mira")
    _id, secret = make_token(app, mira)
    client = app.test_client()
    statuses = [client.get("/api/v1/me", headers=bearer(secret)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["status"] == 429


def test_flask_lms_token_create(app, make_user, client):
    make_user("admin", email="admin@example.org", roles=[("administrator", "site", None)])
    make_user("nomail")
    runner = app.test_cli_runner()

    result = runner.invoke(
        args=["lms", "token", "create", "admin@example.org", "--scope", "me:read", "--days", "90", "--name", "nightly"]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("pwy_")
    me = client.get("/api/v1/me", headers=bearer(secret))
    assert me.status_code == 200 and me.get_json()["roles"] == [
        {"role": "administrator", "scope_type": "site", "scope_id": None}
    ]

    by_username = runner.invoke(args=["lms", "token", "create", "nomail", "--scope", "me:read"])
    assert (
        by_username.exit_code == 0
        and client.get("/api/v1/me", headers=bearer(by_username.stdout.strip())).get_json()["username"] == "nomail"
    )

    for args, message in (
        (["nobody", "--scope", "me:read"], "No active account"),
        (["admin", "--scope", "made:up"], "Unknown scope: made:up."),
        (["admin", "--scope", "me:read", "--days", "366"], "from 1 to 365 days"),
    ):
        result = runner.invoke(args=["lms", "token", "create", *args])
        assert result.exit_code != 0 and message in result.output


def test_openapi_document_is_generated_from_the_routes(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    assert {"me:read", "me:write", "tokens:write"} <= set(
        document["components"]["securitySchemes"]["bearerAuth"]["x-pathways-scopes"]
    )
    paths = document["paths"]
    assert set(paths["/api/v1/me"]) == {"get", "patch"}
    revoke = paths["/api/v1/tokens/{token_id}"]["delete"]
    assert revoke["parameters"] == [{"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    assert paths["/api/v1/me"]["patch"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["locale"][
        "enum"
    ]
    operation_ids = []
    for path, item in paths.items():
        assert path.startswith("/api/v1/")
        for operation in item.values():
            assert operation["operationId"] and operation["summary"]
            assert operation["security"][0]["bearerAuth"]
            operation_ids.append(operation["operationId"])
    assert len(operation_ids) == len(set(operation_ids))
    assert paths["/api/v1/me"]["get"]["summary"] == "The token's owner."


def test_a_plugins_api_blueprint_appears_in_the_document(app):
    from flask import Blueprint

    from lms.api import api_route

    plugin_api = Blueprint("sample_plugin_api", __name__, url_prefix="/api/v1/sample")

    @plugin_api.get("/items/<int:item_id>/notes/<slug>")
    @api_route("api.me", "me:read", response_schema={"type": "object"})
    def item_notes(item_id, slug):
        """Notes of one item.

        Declared only through the decorator: nothing else describes it.
        """
        return {"item": item_id, "slug": slug}

    app.register_blueprint(plugin_api)
    operation = (
        app.test_client()
        .get("/api/v1/openapi.json")
        .get_json()["paths"]["/api/v1/sample/items/{item_id}/notes/{slug}"]["get"]
    )
    assert operation["summary"] == "Notes of one item."
    assert operation["description"] == "Declared only through the decorator: nothing else describes it."
    assert [(p["name"], p["schema"]["type"]) for p in operation["parameters"]] == [
        ("item_id", "integer"),
        ("slug", "string"),
    ]
    assert operation["security"] == [{"bearerAuth": ["me:read"]}]


def test_openapi_document_passes_the_validator(client):
    from openapi_spec_validator import validate

    validate(client.get("/api/v1/openapi.json").get_json())


def test_every_api_route_names_an_action_and_a_scope(app):
    from lms.access import route_action
    from lms.api.auth import scopes

    with app.app_context():
        known = scopes()
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith("/api/"):
                view = app.view_functions[rule.endpoint]
                assert route_action(view), rule.rule
                spec = getattr(view, "lms_api", None)
                assert spec is None or spec.scope in known, rule.rule
