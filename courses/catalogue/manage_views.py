"""Catalogue pages for applying to a course and for managing cohorts, content and sensitive information.

Routes sit on the catalogue blueprint (``bp`` from ``views``); they stay thin like the rest: load,
check access with ``@requires``, call a service and render.
"""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.access import requires
from lms.extensions import db

from . import services
from .forms import ConfirmForm
from .models import Cohort, Course, Enrolment
from .views import bp, load_cohort


def _fail(error: services.CatalogueError) -> None:
    flash(str(error), "error")


def load_open_cohort(cohort_id):
    """The cohort named in the URL if it takes applications now (else None: a 404, whatever else it is)."""
    if not current_user.is_authenticated:
        return load_cohort(cohort_id)  # refused by the check, which sends the visitor to sign in
    return db.session.execute(
        select(Cohort).join(Course, Course.id == Cohort.course_id)
        .where(Cohort.id == cohort_id, *services.open_for_application())
    ).scalar_one_or_none()  # fmt: skip


# --- self-application --------------------------------------------------------------------------------


@bp.route("/apply")
@requires("catalogue.application.browse")
def open_cohorts():
    """Cohorts open for application, with their city, language, dates and free places; the person's own applications."""
    cohorts = db.session.execute(
        select(Cohort).join(Course, Course.id == Cohort.course_id).where(*services.open_for_application())
        .options(joinedload(Cohort.course), joinedload(Cohort.programme))
        .order_by(Cohort.start_date, Cohort.id)
    ).scalars().all()  # fmt: skip
    taken = services.seat_counts(c.id for c in cohorts)
    mine = db.session.execute(
        select(Enrolment).where(Enrolment.user_id == current_user.id)
        .options(joinedload(Enrolment.cohort).joinedload(Cohort.course))
        .order_by(Enrolment.created_at.desc(), Enrolment.id.desc())
    ).scalars().all()  # fmt: skip
    return render_template(
        "catalogue/apply_open.html", cohorts=cohorts, taken=taken, mine=mine,
        already={e.cohort_id for e in mine}, form=ConfirmForm(),
    )  # fmt: skip


@bp.route("/cohorts/<int:cohort_id>/apply", methods=["POST"])
@requires("catalogue.enrolment.apply", load=load_open_cohort)
def cohort_apply(cohort):
    """Apply to one cohort that takes applications."""
    if ConfirmForm().validate_on_submit():
        try:
            enrolment = services.apply_to_cohort(current_user, cohort)
        except services.CatalogueError as error:
            _fail(error)
        else:
            if enrolment.status == "waitlisted":
                flash(_("Every place is taken: your application is on the waiting list."), "success")
            else:
                flash(_("Your application was sent. You will hear when it has been decided."), "success")
    return redirect(url_for(".open_cohorts"))


def nav_entries(user) -> list[dict]:
    """Applying for a course (and following one's applications) is open to everyone signed in."""
    return [{"label": _l("Apply for a course"), "endpoint": "catalogue.open_cohorts", "order": 35}]
