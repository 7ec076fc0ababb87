"""The plugin API: every ``lms_*`` hook a Pathways plugin may implement.

Plugins implement these with ``@hookimpl`` (``from lms.plugins import hookimpl``). Hooks return data,
never HTML; user-facing labels are lazy Flask-Babel strings so each page renders them in its language.
Event hooks run after the service's transaction has committed.
"""

import pluggy

hookspec = pluggy.HookspecMarker("lms")


@hookspec
def lms_blueprints():
    """Return a list of Flask blueprints to register (one per plugin, named like the plugin)."""


@hookspec
def lms_cli():
    """Return a list of click commands or groups to add under ``flask lms``."""


@hookspec
def lms_permissions():
    """Return ``{action: set_of_role_slugs}`` for the actions the plugin's routes and services perform.

    Besides the role slugs of DESIGN.md, ``anonymous`` (anyone, signed in or not), ``authenticated``
    (any signed-in person, site scope) and ``owner`` (the person the object belongs to) may be named.
    """


@hookspec
def lms_evidence_models():
    """Return model classes whose rows are evidence (attendance, grades, certificates).

    Each must have ``__tablename__``, ``id`` and ``audit_state() -> dict``; every write to such a row
    appends an audit event whose ``after`` is that state, and ``flask lms audit verify`` reconciles
    each row with its last event.
    """


@hookspec
def lms_scheduled_jobs():
    """Return a list of ``(job_id, callable, trigger_kwargs)``, e.g. ``("seal", fn, {"trigger": "cron", "hour": 2})``.

    The scheduler runs each callable inside an application context.
    """


@hookspec
def lms_task_handlers():
    """Return ``{task_name: callable(task, progress)}``; ``progress(percent, note)`` reports progress and
    renews the lease. A handler returns the path of its result file under ``LMS_STORAGE`` or None.
    """


@hookspec
def lms_nav_items(user):
    """Return navigation entries for ``user``: dicts ``{"label", "endpoint", "order"}`` (data, not HTML)."""


@hookspec
def lms_course_tabs(course, user):
    """Return tabs for a course page: dicts ``{"label", "endpoint", "values", "order"}``."""


@hookspec
def lms_dashboard_panels(user):
    """Return panels for ``user``'s start page: dicts ``{"template", "context", "order"}``.

    The dashboard includes each template in order; the template reads its data from ``panel.context``.
    Return nothing for people the panel does not concern.
    """


@hookspec
def lms_demo_data(ctx):
    """Add this plugin's part of the demo; ``ctx`` holds the organisations, users and programmes made so far.

    Must be idempotent: running ``flask lms demo`` twice creates nothing new.
    """


@hookspec
def lms_enrolment_created(enrolment):
    """An enrolment was created (after commit)."""


@hookspec
def lms_session_ended(session):
    """A scheduled training session has ended (after commit)."""


@hookspec
def lms_register_locked(register):
    """An attendance register was locked (after commit)."""


@hookspec
def lms_assessment_graded(attempt):
    """An assessment attempt was graded (after commit)."""


@hookspec
def lms_certificate_issued(certificate):
    """A certificate was issued (after commit)."""


@hookspec
def lms_certificate_blockers(enrolment):
    """Return ``(code, params)`` pairs that keep ``enrolment`` from completing, e.g.
    ``("practice_hours", {"have": 31, "need": 40})``; the page translates each code.
    """


@hookspec
def lms_blocker_messages():
    """Return ``{code: lazy_gettext message with %(param)s placeholders}`` for the blocker codes the plugin emits."""


@hookspec
def lms_hours_sources(enrolment):
    """Return ``(source, kind, minutes)`` triples (kind ``theory`` or ``practice``) counting toward hours."""


@hookspec
def lms_evidence_files(scope):
    """Return ``(archive_name, bytes_or_path)`` pairs to include in an evidence pack for ``scope``."""


@hookspec
def lms_report_sources():
    """Return report data sources: dicts ``{"name", "label", "query": callable(scope)}``."""


@hookspec
def lms_user_export(user):
    """Return ``{section_name: data}`` with what the plugin holds about ``user`` (subject access request)."""


@hookspec
def lms_user_erase(user):
    """Erase or pseudonymise what the plugin holds about ``user``; evidence is kept and pseudonymised."""


@hookspec
def lms_api_scopes():
    """Return ``{scope: lazy_gettext label}`` for the API token scopes the plugin's ``/api/v1`` routes need.

    Scopes are named ``<resource>:<read|write>`` (``catalogue:read``, ``enrolments:write``). A plugin's
    API routes live on its own blueprint under ``/api/v1/<plugin>`` and are declared with
    ``lms.api.api_route(action, scope, ...)``; the OpenAPI document is generated from the URL map and
    those declarations, so no separate description of the routes is needed.
    """


@hookspec
def lms_code_recipients(user):
    """Return a SQLAlchemy ``select`` of the ids of people ``user`` may issue one-time sign-in codes for, beyond
    the members of organisations they manage (the catalogue: a trainer, the learners of their cohorts), or None.

    The core still refuses inactive accounts and anyone holding a role other than ``member`` or ``learner``, so a
    code handed out never opens a more powerful account. Called on every page for the navigation: build the
    query from ``lms.access.grants(user)`` (cached per request) and do not execute it here.
    """
