"""The core's ``/api/v1`` routes, the OpenAPI document, and the personal access token pages."""

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import services as core_services
from ..access import grants, requires
from ..database import utcnow
from ..extensions import db
from ..models import ApiToken
from . import services
from .auth import api_route, request_body, scopes
from .forms import RevokeForm, TokenForm
from .openapi import build_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
pages = Blueprint("tokens", __name__, url_prefix="/account/tokens", template_folder="../templates")

IMPLICIT_ROLES = {"anonymous", "authenticated", "owner"}
NULLABLE_STRING = {"type": ["string", "null"]}
ME_SCHEMA = {
    "type": "object",
    "required": ["id", "username", "first_name", "last_name", "email", "locale", "roles"],
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "first_name_alt": NULLABLE_STRING,
        "last_name_alt": NULLABLE_STRING,
        "display_name": {"type": "string"},
        "email": NULLABLE_STRING,
        "locale": NULLABLE_STRING,
        "roles": {
            "type": "array",
            "description": "Roles held now (memberships within their validity dates).",
            "items": {
                "type": "object",
                "required": ["role", "scope_type", "scope_id"],
                "properties": {
                    "role": {"type": "string"},
                    "scope_type": {"type": "string", "enum": ["site", "organisation", "programme", "cohort"]},
                    "scope_id": {"type": ["integer", "null"]},
                },
            },
        },
    },
}


def me_update_schema() -> dict:
    """The body of ``PATCH /me``: the languages this site offers."""
    return {
        "type": "object",
        "required": ["locale"],
        "properties": {"locale": {"type": "string", "enum": list(current_app.config["LANGUAGES"])}},
    }


def me_document(user) -> dict:
    """What ``/me`` tells a script about the token's owner."""
    roles = sorted(
        (grant for grant in grants(user) if grant[0] not in IMPLICIT_ROLES),
        key=lambda grant: (grant[0], grant[1], grant[2] or 0),
    )
    return {
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "first_name_alt": user.first_name_alt,
        "last_name_alt": user.last_name_alt,
        "display_name": user.display_name,
        "email": user.email,
        "locale": user.locale,
        "roles": [
            {"role": role, "scope_type": scope_type, "scope_id": scope_id} for role, scope_type, scope_id in roles
        ],
    }


def load_token(token_id: int) -> ApiToken | None:
    """The token a URL names."""
    return db.session.get(ApiToken, token_id)


@bp.get("/openapi.json")
@requires("api.openapi")
def openapi():
    """The OpenAPI 3.1 description of every /api/v1 route of the enabled plugins."""
    return jsonify(build_document())


@bp.get("/me")
@api_route("api.me", "me:read", response_schema=ME_SCHEMA)
def me():
    """The token's owner.

    Names, e-mail address (may be null: many people have none), preferred language and current roles.
    """
    return me_document(current_user)


@bp.patch("/me")
@api_route("api.me.update", "me:write", request_schema=me_update_schema, response_schema=ME_SCHEMA)
def update_me():
    """Change the token owner's preferred language."""
    core_services.set_locale(current_user, request_body()["locale"])
    return me_document(current_user)


@bp.delete("/tokens/<int:token_id>")
@api_route("api.tokens.revoke", "tokens:write", load=load_token, status=204)
def revoke_token(token):
    """Revoke one of the owner's own tokens (a script can revoke the token it uses when it is done)."""
    services.revoke_token(token)
    return "", 204


@pages.route("", methods=["GET", "POST"])
@requires("account.tokens")
def tokens():
    """The person's own tokens; create one (its secret is shown once, on this response only)."""
    form = TokenForm()
    created = secret = None
    if form.validate_on_submit():
        try:
            created, secret = services.create_token(
                current_user,
                name=form.name.data,
                scopes=form.scopes.data,
                days=form.days.data,
                known_scopes=scopes(),
            )
        except services.TokenError as error:
            form.name.errors.append(error.message)
        else:
            form = TokenForm(formdata=None)
    own = db.session.execute(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc())
    ).scalars()
    return render_template(
        "api/tokens.html",
        form=form,
        tokens=list(own),
        created=created,
        secret=secret,
        revoke_form=RevokeForm(),
        scope_labels=scopes(),
        now=utcnow(),
    )


@pages.post("/<int:token_id>/revoke")
@requires("account.tokens.revoke", load=load_token)
def revoke(token):
    """Revoke one of the person's tokens: it stops working at once."""
    if RevokeForm().validate_on_submit():
        services.revoke_token(token)
        flash(_("The token “%(name)s” was revoked.", name=token.name), "success")
    return redirect(url_for("tokens.tokens"))
