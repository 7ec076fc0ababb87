"""The core's own hook implementations: its blueprints, actions, navigation, jobs and tasks."""

from flask_babel import lazy_gettext as _l

from .plugins import hookimpl

ADMIN = {"administrator"}


@hookimpl
def lms_blueprints():
    """Core, sign-in, administration and API blueprints."""
    from .admin.views import bp as admin_bp
    from .api.views import bp as api_bp
    from .api.views import pages as tokens_bp
    from .auth.account import bp as account_bp
    from .auth.views import bp as auth_bp
    from .task_views import bp as tasks_bp
    from .views import bp as core_bp

    return [core_bp, auth_bp, account_bp, admin_bp, api_bp, tokens_bp, tasks_bp]


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
        "admin.index": ADMIN,
        "admin.user_view": ADMIN,
        "admin.user_manage": ADMIN,
        "admin.invite": ADMIN,
        "admin.membership_manage": ADMIN,
        "admin.organisation_view": ADMIN,
        "admin.organisation_manage": ADMIN,
        "admin.outbox": ADMIN,
        # "My organisation" leads anyone signed in to the organisations they manage (none for most people).
        "organisation.mine": {"authenticated"},
        "organisation.people_view": {"organisation_manager", *ADMIN},
        "organisation.people_add": {"organisation_manager", *ADMIN},
        "auth.reset": {"anonymous"},
        "auth.welcome": {"anonymous"},
        "auth.code_login": {"anonymous"},
        "auth.second_factor": {"authenticated"},
        "auth.choose_password": {"authenticated"},
        # The codes page opens for anyone signed in and then checks auth.issue_codes, which is held in a scope.
        "auth.codes": {"authenticated"},
        "auth.issue_codes": {"organisation_manager", *ADMIN},
        "auth.invite": {"organisation_manager", *ADMIN},
        "account.profile": {"authenticated"},
        "account.password": {"authenticated"},
        "account.two_factor": {"authenticated"},
        "account.tokens": {"authenticated"},
        "account.tokens.revoke": {"owner"},
        "api.openapi": {"anonymous"},
        "api.me": {"authenticated"},
        "api.me.update": {"authenticated"},
        "api.tokens.revoke": {"owner"},
        # A task's page and result: its creator, managers of the scope it belongs to, administrators.
        "tasks.view": {"owner", "programme_manager", "organisation_manager", *ADMIN},
        "tasks.download": {"owner", "programme_manager", "organisation_manager", *ADMIN},
    }


@hookimpl
def lms_nav_items(user):
    """Dashboard and account links for everyone signed in; sign-in codes, "My organisation" and administration
    for those who may use them."""
    if not user.is_authenticated:
        return []
    from .access import scope_ids
    from .auth.services import may_issue_codes

    items = [
        {"label": _l("Home"), "endpoint": "core.dashboard", "order": 0},
        {"label": _l("My account"), "endpoint": "account.profile", "order": 95},
        {"label": _l("Administration"), "endpoint": "admin.index", "action": "admin.index", "order": 90},
    ]
    if scope_ids(user, "organisation.people_view", "organisation"):
        items.append({"label": _l("My organisation"), "endpoint": "admin.my_organisation", "order": 80})
    if may_issue_codes(user):
        items.append({"label": _l("Sign-in codes"), "endpoint": "auth.codes", "order": 85})
    return items


@hookimpl
def lms_task_handlers():
    """Mail delivery as a queued task."""
    from .mail import deliver_task

    return {"mail.deliver": deliver_task}


@hookimpl
def lms_scheduled_jobs():
    """Send what waits in the outbox every minute; the scheduler's heartbeat; the daily signed audit head."""
    from .audit import seal_head
    from .mail import deliver_outbox
    from .scheduler import HEARTBEAT_SECONDS, heartbeat

    return [
        ("mail.deliver", deliver_outbox, {"trigger": "interval", "minutes": 1}),
        ("scheduler.heartbeat", heartbeat, {"trigger": "interval", "seconds": HEARTBEAT_SECONDS}),
        ("audit.seal", seal_head, {"trigger": "cron", "hour": 2}),
    ]


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
    """``flask lms token create`` for administrators' scripts; ``flask lms scheduler`` and ``flask lms worker``."""
    from .api.cli import token_group
    from .scheduler import scheduler_command, worker_command

    return [token_group, scheduler_command, worker_command]


@hookimpl
def lms_evidence_models():
    """The core holds no evidence rows of its own."""
    return []
