"""Bearer-token authentication for ``/api/v1``, the scope registry, JSON errors and the ``api_route`` decorator."""

import functools
import json
from dataclasses import dataclass

import flask_babel
from flask import abort, current_app, g, jsonify, make_response, request
from flask_babel import gettext as _
from limits import parse as parse_limit
from sqlalchemy import select

from .. import audit
from ..access import can
from ..auth.services import token_digest
from ..database import utcnow
from ..extensions import csrf, db, limiter, login_manager
from ..i18n import bcp47
from ..models import ApiToken
from ..plugins import hook
from . import services

AUTH_SCHEME = "Bearer"
REALM = "Pathways API"


def scopes() -> dict[str, object]:
    """Every scope an enabled plugin declares, ``{scope: lazy label}`` sorted by scope (cached per app)."""
    cached = current_app.extensions.get("lms_api_scopes")
    if cached is None:
        merged = {}
        for table in hook().lms_api_scopes():
            merged.update(table or {})
        cached = dict(sorted(merged.items()))
        current_app.extensions["lms_api_scopes"] = cached
    return cached


def json_error(status: int, message: str, *, headers: dict | None = None, **extra):
    """The API's error response: ``{"error": <translated message>, "status": <code>}`` plus any extra keys."""
    response = jsonify({"error": str(message), "status": status, **extra})
    response.status_code = status
    response.headers.update(headers or {})
    return _with_language(response)


def _with_language(response):
    """Say which language the messages are in (the token owner's, else Accept-Language)."""
    response.headers["Content-Language"] = bcp47(str(flask_babel.get_locale()))
    return response


def _challenge(error: str | None = None, scope: str | None = None) -> dict:
    """The ``WWW-Authenticate`` header of RFC 6750 for a refused request."""
    parts = [f'realm="{REALM}"']
    if error:
        parts.append(f'error="{error}"')
    if scope:
        parts.append(f'scope="{scope}"')
    return {"WWW-Authenticate": f"{AUTH_SCHEME} " + ", ".join(parts)}


def _act_as(user) -> None:
    """Make ``user`` the request's user (anonymous for None) without touching the session cookie.

    Flask-Login keeps the request's user in ``g._login_user``; filling it first means the cookie is
    never consulted, so a signed-in browser gains nothing on the API. Audit events then name the
    token's owner, and messages follow their language (or Accept-Language before authentication).
    """
    g._login_user = user if user is not None else login_manager.anonymous_user()
    flask_babel.refresh()


def find_token(raw: str) -> ApiToken | None:
    """The token row a presented secret names (looked up by its SHA-256), or None."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != services.TOKEN_MARK:
        return None
    return db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == token_digest(raw), ApiToken.prefix == parts[1])
    ).scalar_one_or_none()


def authenticate() -> ApiToken:
    """The valid token of this request; otherwise abort with 401 (a presented but refused token is audited)."""
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    raw = raw.strip()
    if scheme.lower() != AUTH_SCHEME.lower() or not raw:
        abort(
            json_error(
                401,
                _("Send a personal access token in the header “Authorization: Bearer <token>”."),
                headers=_challenge(),
            )
        )
    token = find_token(raw)
    if token is None:
        problem, message = "unknown", _("This token is not valid. Check that it was copied whole.")
    elif token.revoked_at is not None:
        problem, message = "revoked", _("This token has been revoked.")
    elif token.expires_at <= utcnow():
        problem, message = "expired", _("This token has expired. Create a new one on your account page.")
    elif not token.user.is_active:
        problem, message = "inactive account", _("The account this token belongs to is deactivated.")
    else:
        return token
    audit.record_refusal(
        "api.token_refused",
        actor=token.user if token else None,
        object_type="lms_api_token" if token else "",
        object_id=token.id if token else "",
        reason=problem,
    )
    abort(json_error(401, message, headers=_challenge("invalid_token")))


def _limit(token: ApiToken) -> None:
    """A loose per-token request limit (``API_RATE_LIMIT``), shared by every API route."""
    if not limiter.enabled:
        return
    item = parse_limit(current_app.config["API_RATE_LIMIT"])
    if not limiter.limiter.hit(item, "api-token", token.prefix):
        abort(json_error(429, _("Too many requests with this token. Please wait a minute and try again.")))


def _refuse(user, action: str, obj=None, *, missing_scope: str | None = None):
    """Audit a refused API call in its own transaction and answer 403."""
    object_type, object_id = audit.object_ref(obj)
    reason = f"{action} (token lacks scope {missing_scope})" if missing_scope else action
    audit.record_refusal("access.denied", actor=user, object_type=object_type, object_id=object_id, reason=reason)
    if missing_scope:
        message = _("This token does not have the scope %(scope)s.", scope=missing_scope)
        abort(json_error(403, message, headers=_challenge("insufficient_scope", missing_scope)))
    abort(json_error(403, _("You do not have permission to do this.")))


# --- request bodies ------------------------------------------------------------------------------


def _field_problem(value, rule: dict) -> str | None:
    """Why ``value`` breaks its JSON-Schema ``rule`` (the subset API schemas use), or None."""
    kind = rule.get("type")
    if kind == "string":
        if not isinstance(value, str):
            return _("Must be text.")
        if len(value) < rule.get("minLength", 0):
            return _("Must not be empty.") if rule["minLength"] == 1 else _("Too short.")
        if "maxLength" in rule and len(value) > rule["maxLength"]:
            return _("Must be at most %(max)s characters.", max=rule["maxLength"])
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return _("Must be a whole number.")
        if value < rule.get("minimum", value) or value > rule.get("maximum", value):
            return _("Must be from %(min)s to %(max)s.", min=rule.get("minimum"), max=rule.get("maximum"))
    elif kind == "boolean" and not isinstance(value, bool):
        return _("Must be true or false.")
    elif kind == "array":
        if not isinstance(value, list):
            return _("Must be a list.")
        problems = [_field_problem(item, rule.get("items", {})) for item in value]
        return next((p for p in problems if p), None)
    if "enum" in rule and value not in rule["enum"]:
        return _("Must be one of: %(choices)s.", choices=", ".join(map(str, rule["enum"])))
    return None


def read_body(schema: dict) -> dict:
    """The request's JSON object checked against ``schema``; 400 with a message per field otherwise.

    Unknown fields are refused rather than ignored, so a misspelt field name is noticed instead of
    silently changing nothing.
    """
    try:
        data = json.loads(request.get_data(cache=True) or b"{}")
    except (ValueError, UnicodeDecodeError):
        abort(json_error(400, _("The request body is not valid JSON.")))
    if not isinstance(data, dict):
        abort(json_error(400, _("The request body must be a JSON object.")))
    properties = schema.get("properties", {})
    fields = {name: _("This field is not known.") for name in data if name not in properties}
    for name in schema.get("required", ()):
        if name not in data:
            fields[name] = _("This field is required.")
    for name, rule in properties.items():
        if name in data and (problem := _field_problem(data[name], rule)):
            fields[name] = problem
    if fields:
        abort(json_error(400, _("Some fields are not right."), fields=fields))
    return data


def request_body() -> dict:
    """The checked JSON body of a route declared with ``request_schema``."""
    return g.lms_api_body


# --- the route decorator -------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiSpec:
    """What ``api_route`` declares about a view; the OpenAPI document is generated from it."""

    action: str
    scope: str
    response_schema: dict | None = None
    request_schema: dict | None = None
    status: int = 200
    loads_object: bool = False

    def request_schema_now(self) -> dict | None:
        """The request schema (a callable schema is evaluated in the running app, e.g. for configured languages)."""
        return self.request_schema() if callable(self.request_schema) else self.request_schema


def api_route(
    action: str,
    scope: str,
    load=None,
    *,
    response_schema: dict | None = None,
    request_schema=None,
    status: int = 200,
):
    """Declare an API view: bearer token with ``scope``, then ``can(token user, action, obj)``.

    Put it under the blueprint's route decorator. With ``load``, the URL arguments fetch the object
    (404 JSON when None) and the view receives it, as with ``requires``. With ``request_schema`` the
    JSON body is checked after the access checks and read with ``request_body()``; a callable schema is
    evaluated per request. Schemas also feed ``openapi.json``.
    Token-authenticated views are exempt from CSRF; a session cookie never authenticates them.
    """
    spec = ApiSpec(action, scope, response_schema, request_schema, status, load is not None)

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            _act_as(None)
            token = authenticate()
            user = token.user
            _act_as(user)
            _limit(token)
            services.record_use(token)
            if scope not in token.scope_list:
                _refuse(user, action, missing_scope=scope)
            obj = None
            if load is not None:
                obj = load(**kwargs)
                if obj is None:
                    abort(json_error(404, _("We could not find this item.")))
            if not can(user, action, obj):
                _refuse(user, action, obj)
            if spec.request_schema is not None:
                g.lms_api_body = read_body(spec.request_schema_now())
            result = view(obj) if load is not None else view(*args, **kwargs)
            return _with_language(make_response(result))

        wrapper.lms_action = action
        wrapper.lms_api = spec
        return csrf.exempt(wrapper)

    return decorator
