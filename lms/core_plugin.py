"""The core's own hook implementations: its blueprints, actions, navigation, jobs and tasks."""

from flask_babel import lazy_gettext as _l

from .plugins import hookimpl

ADMIN = {"administrator"}


@hookimpl
def lms_blueprints():
    """Core, sign-in, administration and API blueprints."""
    from .api.views import bp as api_bp
    from .api.views import pages as tokens_bp
    from .auth.views import bp as auth_bp
    from .views import bp as core_bp

    return [core_bp, auth_bp, api_bp, tokens_bp]


@hookimpl
def lms_permissions():
    """Actions of the core's routes and services."""
    return {
        "site.static": {"anonymous"},
        "core.health": {"anonymous"},
        "core.language": {"anonymous"},
        "core.dashboard": {"authenticated"},
        "auth.login": {"anonymous"},
        "auth.logout": {"authenticated"},
        "account.tokens": {"authenticated"},
        "account.tokens.revoke": {"owner"},
        "api.openapi": {"anonymous"},
        "api.me": {"authenticated"},
        "api.me.update": {"authenticated"},
        "api.tokens.revoke": {"owner"},
    }


@hookimpl
def lms_nav_items(user):
    """The dashboard link for everyone signed in."""
    if not user.is_authenticated:
        return []
    return [{"label": _l("Home"), "endpoint": "core.dashboard", "order": 0}]


@hookimpl
def lms_api_scopes():
    """API token scopes of the core's own /api/v1 routes."""
    return {
        "me:read": _l("Read your name, e-mail address, language and roles"),
        "me:write": _l("Change your preferred language"),
        "tokens:write": _l("Revoke your own tokens"),
    }


@hookimpl
def lms_cli():
    """``flask lms token create`` for administrators' scripts."""
    from .api.cli import token_group

    return [token_group]


@hookimpl
def lms_evidence_models():
    """The core holds no evidence rows of its own."""
    return []
