"""Hook implementations of the catalogue plugin."""

from flask_babel import lazy_gettext as _l

from lms.plugins import hookimpl

MANAGERS = {"programme_manager", "administrator"}
READERS = MANAGERS | {"auditor"}


@hookimpl
def lms_blueprints():
    """The catalogue's pages and its ``/api/v1/catalogue`` routes."""
    from . import (
        calendar_views,  # noqa: F401  (routes on the catalogue blueprint)
        import_views,  # noqa: F401  (routes on the catalogue blueprint)
        manage_views,  # noqa: F401  (routes on the catalogue blueprint)
        package_views,  # noqa: F401  (routes on the catalogue blueprint)
        selection_api,  # noqa: F401  (routes on the catalogue API blueprint)
        selection_views,  # noqa: F401  (routes on the catalogue blueprint)
    )
    from .api import bp as api_bp
    from .views import bp

    return [bp, api_bp]


@hookimpl
def lms_api_scopes():
    """Token scopes of the catalogue's API."""
    return {
        "catalogue:read": _l("Read programmes, courses, cohorts, sessions and enrolments you may see"),
        "enrolments:write": _l("Enrol people in cohorts"),
    }


@hookimpl
def lms_permissions():
    """Actions of the catalogue, with the roles that may perform them (scopes come from access paths)."""
    return {
        # Programmes: administrators create them; programme managers build inside theirs; auditors read.
        "catalogue.programme.list": {"authenticated"},
        "catalogue.programme.create": {"administrator"},
        "catalogue.programme.view": READERS,
        "catalogue.programme.manage": MANAGERS,
        # Courses and their content; learners and trainers reach them through their cohort.
        "catalogue.course.view": READERS | {"learner", "trainer", "mentor"},
        "catalogue.course.manage": MANAGERS,
        "catalogue.attachment.download": READERS | {"learner", "trainer", "mentor"},
        # Cohorts, sessions and rosters.
        "catalogue.cohort.view": READERS | {"trainer", "mentor"},
        "catalogue.cohort.manage": MANAGERS,
        # Enrolment: programme managers enrol anyone; organisation managers their own staff; people apply.
        "catalogue.enrolment.create": MANAGERS,
        "catalogue.enrolment.sponsor": {"organisation_manager"},
        "catalogue.enrolment.apply": {"authenticated"},
        "catalogue.application.withdraw": {"owner"},  # applicants take back their own application
        "catalogue.application.browse": {"authenticated"},
        "catalogue.enrolment.view": READERS | {"owner", "organisation_manager", "trainer"},
        "catalogue.enrolment.manage": MANAGERS,
        "catalogue.sensitive.view": MANAGERS,
        "catalogue.sensitive.record": MANAGERS,
        # Transparent selection: managers define, score and decide; auditors read the sheet and export it;
        # applicants (``owner``) read the criteria and their own result.
        "catalogue.selection.manage": MANAGERS,
        "catalogue.selection.view": READERS,
        "catalogue.selection.criteria": READERS | {"owner"},
        "catalogue.selection.result": READERS | {"owner"},
        # A learner's own progress and calendar.
        "catalogue.progress.record": {"owner"},
        "catalogue.calendar.view": {"authenticated"},
        # A calendar app fetches the feed without a session: the secret token in its URL is the credential.
        "catalogue.calendar.feed": {"anonymous"},
        "catalogue.staff.view": {"organisation_manager", "administrator"},
        "catalogue.staff.import": {"organisation_manager", "administrator"},
    }


@hookimpl
def lms_nav_items(user):
    """Calendar and applying for a course for everyone signed in; programmes for those who build or audit them;
    staff for organisation managers."""
    if not user.is_authenticated:
        return []
    from . import manage_views
    from .views import nav_entries

    return nav_entries(user) + manage_views.nav_entries(user)


@hookimpl
def lms_course_tabs(course, user):
    """The catalogue's own tabs: the content, and the cohorts for those who may see them."""
    return [
        {"label": _l("Content"), "endpoint": "catalogue.course", "values": {"course_id": course.id}, "order": 0},
    ]


@hookimpl
def lms_dashboard_panels(user):
    """The learner's "what next?" panel and, for organisation managers, a link to their staff."""
    from .views import dashboard_panels

    return dashboard_panels(user)


@hookimpl
def lms_task_handlers():
    """Large staff imports, and the invitations of people an import created."""
    from .imports import run_import_task, send_invitations

    return {"catalogue.staff_import": run_import_task, "catalogue.staff_invitations": send_invitations}


@hookimpl
def lms_scheduled_jobs():
    """Every night, complete the enrolments of ended cohorts that no plugin's rule blocks."""
    from .services import complete_ended_enrolments

    return [("catalogue.complete_enrolments", complete_ended_enrolments, {"trigger": "cron", "hour": 3})]


@hookimpl
def lms_session_ended(session):
    """A session ending after its cohort's last day (a late make-up session) may clear the last blocker."""
    from .services import complete_ended_enrolments

    complete_ended_enrolments(cohort_ids=[session.cohort_id])


@hookimpl
def lms_code_recipients(user):
    """Trainers may issue sign-in codes for the learners of their cohorts."""
    from .services import trainer_code_recipients

    return trainer_code_recipients(user)


@hookimpl
def lms_certificate_blockers(enrolment):
    """Required lessons the learner has not marked done."""
    from .services import lessons_incomplete

    return lessons_incomplete(enrolment)


@hookimpl
def lms_blocker_messages():
    """Sentences for the catalogue's blocker codes."""
    return {"lessons_incomplete": _l("Lessons done: %(done)s of %(required)s required.")}


@hookimpl
def lms_demo_data(ctx):
    """The demo programmes, courses, cohorts, sessions and enrolments."""
    from .demo import build

    build(ctx)


@hookimpl
def lms_user_export(user):
    """Enrolments, progress and sensitive attributes held about the person."""
    from .services import export_user

    return {"catalogue": export_user(user)}


@hookimpl
def lms_user_erase(user):
    """Delete non-evidence data about the person; enrolments stay as (pseudonymised) evidence."""
    from .services import erase_user

    erase_user(user)
