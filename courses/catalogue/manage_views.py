"""Catalogue pages for applying to a course and for managing cohorts, content and sensitive information.

Routes sit on the catalogue blueprint (``bp`` from ``views``); they stay thin like the rest: load,
check access with ``@requires``, call a service and render.
"""

from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms.access import can, requires
from lms.auth.services import find_account
from lms.extensions import db
from lms.models import User

from . import services
from .forms import CohortForm, ConfirmForm, SensitiveForm, TrainerForm
from .models import Cohort, ConsentRecord, Course, Enrolment, Lesson, LessonVersion, Module, SensitiveAttribute
from .views import (
    _fail,
    bp,
    cohort_trainers_of,
    lesson_titles,
    load_cohort,
    load_course,
    load_enrolment,
    load_lesson,
    load_module,
)


def load_open_cohort(cohort_id):
    """The cohort named in the URL if it takes applications now (else None: a 404, whatever else it is)."""
    if not current_user.is_authenticated:
        return load_cohort(cohort_id)  # refused by the check, which sends the visitor to sign in
    return services.open_cohort(cohort_id)


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
        already={e.cohort_id for e in mine}, form=ConfirmForm(), withdrawable=services.APPLICATION_STATUSES,
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


# --- cohorts and their trainers ----------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@requires("catalogue.cohort.manage", load=load_cohort)
def cohort_edit(cohort):
    """Change a cohort's name, city, language, dates, places and status."""
    form = CohortForm(obj=cohort)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in services.COHORT_FIELDS}
        try:
            services.save_cohort(cohort.course, values, current_user, cohort)
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The cohort was saved."), "success")
            return redirect(url_for(".cohort", cohort_id=cohort.id))
    return render_template("catalogue/form.html", form=form, title=_("Edit %(name)s", name=cohort.name),
                           submit=_("Save"))  # fmt: skip


@bp.route("/cohorts/<int:cohort_id>/trainers", methods=["GET", "POST"])
@requires("catalogue.cohort.manage", load=load_cohort)
def cohort_trainers(cohort):
    """The cohort's trainers: add one by username, e-mail or phone number, or remove one."""
    form = TrainerForm()
    if form.validate_on_submit():
        trainer = find_account(form.login.data)
        if trainer is None:
            flash(_("No account has that username, e-mail or phone number."), "error")
        else:
            try:
                services.add_trainer(cohort, trainer, current_user)
            except services.CatalogueError as error:
                _fail(error)
            else:
                flash(_("%(name)s is now a trainer of this cohort.", name=trainer.display_name), "success")
                return redirect(url_for(".cohort_trainers", cohort_id=cohort.id))
    return render_template("catalogue/cohort_trainers.html", cohort=cohort, trainers=cohort_trainers_of(cohort.id),
                           form=form)  # fmt: skip


@bp.route("/cohorts/<int:cohort_id>/trainers/remove", methods=["POST"])
@requires("catalogue.cohort.manage", load=load_cohort)
def cohort_trainer_remove(cohort):
    """Take the trainer role on this cohort away from one person."""
    trainer = db.session.get(User, request.form.get("user", type=int) or 0)
    if trainer is None:
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            services.remove_trainer(cohort, trainer, current_user)
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("%(name)s is no longer a trainer of this cohort.", name=trainer.display_name), "success")
    return redirect(url_for(".cohort_trainers", cohort_id=cohort.id))


# --- arranging and removing content ------------------------------------------------------------------


@bp.route("/courses/<int:course_id>/arrange")
@requires("catalogue.course.manage", load=load_course)
def course_arrange(course):
    """Modules and lessons in order, with buttons to move, delete or retire them and to (un)publish each language."""
    modules = db.session.execute(
        select(Module).where(Module.course_id == course.id)
        .options(selectinload(Module.lessons).selectinload(Lesson.versions))
        .order_by(Module.position, Module.id)
    ).scalars().all()  # fmt: skip
    ids = [lesson.id for module in modules for lesson in module.lessons]
    titles = lesson_titles(ids, course.default_language, course.default_language, published_only=False)
    return render_template("catalogue/arrange.html", course=course, modules=modules, titles=titles)


def _direction() -> str:
    return request.form.get("direction", "")


@bp.route("/modules/<int:module_id>/move", methods=["POST"])
@requires("catalogue.course.manage", load=load_module)
def module_move(module):
    """Move a module one place up or down."""
    if ConfirmForm().validate_on_submit():
        try:
            services.move_module(module, _direction(), current_user)
        except services.CatalogueError as error:
            _fail(error)
    return redirect(url_for(".course_arrange", course_id=module.course_id))


@bp.route("/lessons/<int:lesson_id>/move", methods=["POST"])
@requires("catalogue.course.manage", load=load_lesson)
def lesson_move(lesson):
    """Move a lesson one place up or down in its module."""
    if ConfirmForm().validate_on_submit():
        try:
            services.move_lesson(lesson, _direction(), current_user)
        except services.CatalogueError as error:
            _fail(error)
    return redirect(url_for(".course_arrange", course_id=lesson.course_id))


@bp.route("/lessons/<int:lesson_id>/delete", methods=["GET", "POST"])
@requires("catalogue.course.manage", load=load_lesson)
def lesson_delete(lesson):
    """Confirm, then delete a lesson nobody has worked on; one with learners' progress can only be retired."""
    form = ConfirmForm()
    back = url_for(".course_arrange", course_id=lesson.course_id)
    if form.validate_on_submit():
        try:
            services.delete_lesson(lesson, current_user)
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The lesson was deleted."), "success")
        return redirect(back)
    title = lesson_titles(
        [lesson.id], lesson.course.default_language, lesson.course.default_language, published_only=False
    ).get(lesson.id)
    return render_template("catalogue/confirm_delete.html", form=form, back=back, title=title or _("Untitled lesson"),
                           learners=services.lesson_learner_count(lesson.id), lesson=lesson)  # fmt: skip


@bp.route("/lessons/<int:lesson_id>/retire", methods=["POST"])
@requires("catalogue.course.manage", load=load_lesson)
def lesson_retire(lesson):
    """Unpublish every language of a lesson and stop requiring it, keeping learners' progress."""
    if ConfirmForm().validate_on_submit():
        services.retire_lesson(lesson, current_user)
        flash(_("The lesson was retired: learners no longer see it."), "success")
    return redirect(url_for(".course_arrange", course_id=lesson.course_id))


@bp.route("/modules/<int:module_id>/delete", methods=["GET", "POST"])
@requires("catalogue.course.manage", load=load_module)
def module_delete(module):
    """Confirm, then delete an empty module no session teaches."""
    form = ConfirmForm()
    back = url_for(".course_arrange", course_id=module.course_id)
    if form.validate_on_submit():
        try:
            services.delete_module(module, current_user)
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The module was deleted."), "success")
        return redirect(back)
    return render_template("catalogue/confirm_delete.html", form=form, back=back, title=module.title, learners=0,
                           lesson=None)  # fmt: skip


def load_version(lesson_id, language):
    """One language version of a lesson named in the URL."""
    return db.session.execute(
        select(LessonVersion).where(LessonVersion.lesson_id == lesson_id, LessonVersion.language == language)
        .options(joinedload(LessonVersion.lesson).joinedload(Lesson.course))
    ).scalar_one_or_none()  # fmt: skip


@bp.route("/lessons/<int:lesson_id>/versions/<language>/publish", methods=["POST"])
@requires("catalogue.course.manage", load=load_version)
def version_publish(version):
    """Publish (``published=1``) or unpublish (``published=0``) one language version of a lesson."""
    if ConfirmForm().validate_on_submit():
        published = request.form.get("published") == "1"
        services.set_version_published(version, published, current_user)
        flash(_("The text was published.") if published else _("The text was unpublished."), "success")
    return redirect(url_for(".course_arrange", course_id=version.lesson.course_id))


# --- sensitive information ---------------------------------------------------------------------------


def _sensitive_page(enrolment, form):
    rows = db.session.execute(
        select(SensitiveAttribute, ConsentRecord, User)
        .join(ConsentRecord, ConsentRecord.id == SensitiveAttribute.consent_id)
        .outerjoin(User, User.id == ConsentRecord.recorded_by_id)
        .where(SensitiveAttribute.enrolment_id == enrolment.id)
        .order_by(SensitiveAttribute.recorded_at, SensitiveAttribute.id)
    ).all()  # fmt: skip
    return render_template("catalogue/sensitive.html", enrolment=enrolment, rows=rows, form=form,
                           may_record=can(current_user, "catalogue.sensitive.record", enrolment))  # fmt: skip


@bp.route("/enrolments/<int:enrolment_id>/sensitive")
@requires("catalogue.sensitive.view", load=load_enrolment)
def enrolment_sensitive(enrolment):
    """Sensitive information recorded about an applicant, each item with its consent (programme managers only)."""
    return _sensitive_page(enrolment, SensitiveForm())


@bp.route("/enrolments/<int:enrolment_id>/sensitive/record", methods=["POST"])
@requires("catalogue.sensitive.record", load=load_enrolment)
def enrolment_sensitive_record(enrolment):
    """Record one item of sensitive information together with the person's consent."""
    form = SensitiveForm()
    if form.validate_on_submit():
        try:
            services.record_sensitive(
                enrolment, form.kind.data, form.value.data, consent_text_version=form.consent_text_version.data,
                consent_given=form.consent_given.data, by=current_user,
                given_at=datetime.combine(form.given_at.data, datetime.min.time()),
            )  # fmt: skip
        except services.CatalogueError as error:
            _fail(error)
        else:
            flash(_("The information and the consent were recorded."), "success")
            return redirect(url_for(".enrolment_sensitive", enrolment_id=enrolment.id))
    return _sensitive_page(enrolment, form)


def nav_entries(user) -> list[dict]:
    """Applying for a course (and following one's applications) is open to everyone signed in."""
    return [{"label": _l("Apply for a course"), "endpoint": "catalogue.open_cohorts", "order": 35}]
