"""The core's own hook implementations: its blueprints, actions, navigation, jobs and tasks."""

from flask_babel import lazy_gettext as _l

from .plugins import hookimpl

ADMIN = {"administrator"}


@hookimpl
def lms_blueprints():
    """Core, sign-in, administration and API blueprints."""
    from .auth.views import bp as auth_bp
    from .views import bp as core_bp

    return [core_bp, auth_bp]


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
    }


@hookimpl
def lms_nav_items(user):
    """The dashboard link for everyone signed in."""
    if not user.is_authenticated:
        return []
    return [{"label": _l("Home"), "endpoint": "core.dashboard", "order": 0}]


@hookimpl
def lms_evidence_models():
    """The core holds no evidence rows of its own."""
    return []
