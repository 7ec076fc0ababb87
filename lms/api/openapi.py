"""The OpenAPI 3.1 document of ``/api/v1``, generated from the running app's URL map.

Every view declared with ``api_route`` carries an :class:`~lms.api.auth.ApiSpec`; walking
``app.url_map`` finds them on the core's blueprint and on every plugin's, so the document always
describes exactly the routes that exist. Summaries and descriptions come from the views' docstrings,
path parameters from the URL rules' converters.
"""

import inspect
import re

from flask import current_app
from flask_babel import gettext as _

from .auth import REALM, scopes

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
SECURITY_SCHEME = "bearerAuth"
_RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTER_SCHEMAS = {
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "status"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong, in the caller's language."},
        "status": {"type": "integer"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "For 400: a message per field that is not right (unknown fields are refused).",
        },
    },
}


def _path_and_parameters(rule) -> tuple[str, list[dict]]:
    """``/api/v1/tokens/<int:token_id>`` -> ``/api/v1/tokens/{token_id}`` and its path parameters."""
    parameters = []

    def replace(match):
        parameters.append(
            {
                "name": match["name"],
                "in": "path",
                "required": True,
                "schema": dict(_CONVERTER_SCHEMAS.get(match["converter"] or "", {"type": "string"})),
            }
        )
        return "{" + match["name"] + "}"

    return _RULE_ARGUMENT.sub(replace, rule.rule), parameters


def _texts(view) -> tuple[str, str]:
    """A view's summary (first docstring line) and description (the rest)."""
    doc = inspect.cleandoc(view.__doc__ or "")
    summary, _sep, description = doc.partition("\n")
    return summary.strip() or view.__name__.replace("_", " "), description.strip()


def _error(description: str) -> dict:
    """A reusable error response carrying the Error schema."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _operation(endpoint: str, method: str, view, parameters: list[dict]) -> dict:
    """One operation: its id, texts, scope, parameters, request body and responses."""
    spec = view.lms_api
    summary, description = _texts(view)
    success = {"description": _("Success")}
    if spec.response_schema is not None:
        success["content"] = {"application/json": {"schema": spec.response_schema}}
    responses = {
        str(spec.status): success,
        "401": {"$ref": "#/components/responses/Unauthorized"},
        "403": {"$ref": "#/components/responses/Forbidden"},
        "429": {"$ref": "#/components/responses/TooManyRequests"},
    }
    operation = {
        "operationId": f"{method}_{endpoint.replace('.', '_')}",
        "summary": summary,
        "security": [{SECURITY_SCHEME: [spec.scope]}],
        "x-pathways-action": spec.action,
        "responses": responses,
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if spec.loads_object or parameters:
        responses["404"] = {"$ref": "#/components/responses/NotFound"}
    request_schema = spec.request_schema_now()
    if request_schema is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"additionalProperties": False, **request_schema}}},
        }
        responses["400"] = {"$ref": "#/components/responses/BadRequest"}
    return operation


def build_document() -> dict:
    """The whole OpenAPI document for the running app, its labels in the request's language."""
    paths: dict[str, dict] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        view = current_app.view_functions.get(rule.endpoint)
        if getattr(view, "lms_api", None) is None:
            continue
        path, parameters = _path_and_parameters(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, method.lower(), view, parameters)
    scope_labels = {scope: str(label) for scope, label in scopes().items()}
    scope_text = "\n".join(f"- `{scope}`: {label}" for scope, label in scope_labels.items())
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": REALM,
            "version": API_VERSION,
            "description": _(
                "Personal access tokens are created on the account page (or with `flask lms token create`) "
                "and sent as `Authorization: Bearer <token>`. Each token carries scopes; each call also "
                'needs the token owner\'s permission. Errors are JSON: `{"error": message, "status": code}`.'
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": _("Scopes a token may carry:") + "\n" + scope_text,
                    "x-pathways-scopes": scope_labels,
                }
            },
            "schemas": {"Error": ERROR_SCHEMA},
            "responses": {
                "BadRequest": _error(_("The body is not valid JSON, or some fields are not right.")),
                "Unauthorized": _error(_("No token, or the token is unknown, revoked or expired.")),
                "Forbidden": _error(_("The token lacks the scope, or its owner lacks the permission.")),
                "NotFound": _error(_("Not found.")),
                "TooManyRequests": _error(_("Too many requests with this token.")),
            },
        },
        "security": [{SECURITY_SCHEME: []}],
    }
