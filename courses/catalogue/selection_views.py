"""Pages of the transparent selection: published criteria, scoring sheet, scoring form, decisions, export.

Routes sit on the catalogue blueprint (``bp`` from ``views``) and stay thin: load, check access with
``@requires``, call ``selection`` and render. Programme managers (and administrators) define, score, decide
and confirm; auditors of the programme read the sheet and export it; applicants read the criteria and their
own result.
"""

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.access import can, requires
from lms.exports import csv_response
from lms.extensions import db
from lms.formatting import format_datetime

from . import selection
from .forms import SENSITIVE_KIND_CHOICES, ConfirmForm
from .models import Cohort, SelectionCriterion, SensitiveAttribute
from .selection_forms import CriterionForm, DecisionForm, UnpublishForm
from .services import APPLICATION_STATUSES, CatalogueError, open_cohort
from .views import _fail, bp, load_cohort, load_enrolment


@bp.app_template_global("selection_decision")
def decision_label(decision: str | None) -> str:
    """A selection decision in the page's language."""
    return selection.decision_label(decision)


@bp.app_template_global("may_see_selection")
def may_see_selection(cohort: Cohort) -> bool:
    """Whether the signed-in person may open the cohort's scoring sheet (the cohort page links to it then)."""
    return can(current_user, "catalogue.selection.view", cohort)


@bp.app_template_global("sensitive_kind")
def sensitive_kind(kind: str) -> str:
    """A kind of sensitive information in the page's language."""
    return str(dict(SENSITIVE_KIND_CHOICES).get(kind, kind))


@dataclass
class CriteriaOf:
    """A cohort's criteria as the viewer reaches them: as their own when they applied to the cohort or may
    apply now (anyone signed in may read what they would be judged by), else through the cohort's scopes."""

    cohort: Cohort
    own: bool

    def access_path(self):
        """The viewer's own scope first when the criteria are theirs to read, then the cohort's."""
        return [*([("user", current_user.id)] if self.own else []), *self.cohort.access_path()]


def load_criteria_of(cohort_id):
    """The cohort named in the URL, reached by an applicant or a would-be applicant."""
    cohort = load_cohort(cohort_id)
    if cohort is None:
        return None
    own = current_user.is_authenticated and (
        selection.own_application(cohort.id, current_user.id) or open_cohort(cohort.id) is not None
    )
    return CriteriaOf(cohort, bool(own))


def load_criterion(criterion_id):
    """The criterion named in the URL, with its course."""
    return db.session.get(SelectionCriterion, criterion_id, options=[joinedload(SelectionCriterion.course)])


def _criterion_cohort(criterion: SelectionCriterion) -> Cohort | None:
    """The cohort whose setup page a criterion is edited from (the first of its course for a course-wide one)."""
    if criterion.cohort_id:
        return db.session.get(Cohort, criterion.cohort_id)
    return db.session.execute(
        select(Cohort).where(Cohort.course_id == criterion.course_id).order_by(Cohort.id).limit(1)
    ).scalar_one_or_none()


def _local(cohort: Cohort):
    zone = cohort.programme.time_zone
    return lambda at: format_datetime(at, zone, "yyyy-MM-dd HH:mm")


# --- criteria ----------------------------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/selection/criteria")
@requires("catalogue.selection.criteria", load=load_criteria_of)
def selection_criteria(reached):
    """The published criteria in plain language: what counts, how much, how totals and ties are decided."""
    cohort = reached.cohort
    publication = selection.publication_of(cohort)
    published = publication is not None and publication.published_at is not None
    may_manage = can(current_user, "catalogue.selection.manage", cohort)
    criteria = selection.criteria_of(cohort) if published or may_manage else []
    return render_template(
        "catalogue/selection_criteria.html", cohort=cohort, criteria=criteria, publication=publication,
        published=published, may_manage=may_manage, maximum=selection.maximum_total(criteria),
        own_enrolment_id=selection.own_application(cohort.id, current_user.id),
    )  # fmt: skip


@bp.route("/cohorts/<int:cohort_id>/selection/setup", methods=["GET", "POST"])
@requires("catalogue.selection.manage", load=load_cohort)
def selection_setup(cohort):
    """Define the criteria (add one per form), then publish them; unpublish with a reason to change them."""
    form = CriterionForm()
    if form.validate_on_submit():
        try:
            selection.add_criterion(cohort, form.data, current_user)
        except CatalogueError as error:
            _fail(error)
        else:
            flash(_("The criterion was added."), "success")
            return redirect(url_for(".selection_setup", cohort_id=cohort.id))
    return render_template(
        "catalogue/selection_setup.html", cohort=cohort, form=form, criteria=selection.criteria_of(cohort),
        publication=selection.publication_of(cohort), published=selection.is_published(cohort),
        unpublish_form=UnpublishForm(), confirm_form=ConfirmForm(),
    )  # fmt: skip


@bp.route("/selection/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
@requires("catalogue.selection.manage", load=load_criterion)
def selection_criterion_edit(criterion):
    """Change a criterion that is not published."""
    cohort = _criterion_cohort(criterion)
    form = CriterionForm(obj=criterion)
    if form.validate_on_submit():
        try:
            selection.update_criterion(criterion, form.data, current_user)
        except CatalogueError as error:
            _fail(error)
        else:
            flash(_("The criterion was changed."), "success")
            if cohort is not None:
                return redirect(url_for(".selection_setup", cohort_id=cohort.id))
    return render_template("catalogue/form.html", form=form, title=_("Criterion: %(name)s", name=criterion.name),
                           submit=_("Save"))  # fmt: skip


@bp.route("/selection/criteria/<int:criterion_id>/delete", methods=["POST"])
@requires("catalogue.selection.manage", load=load_criterion)
def selection_criterion_delete(criterion):
    """Delete a criterion that is not published and on which nobody was scored."""
    cohort = _criterion_cohort(criterion)
    if ConfirmForm().validate_on_submit():
        try:
            selection.delete_criterion(criterion, current_user)
        except CatalogueError as error:
            _fail(error)
        else:
            flash(_("The criterion was deleted."), "success")
    if cohort is None:
        return redirect(url_for(".course", course_id=criterion.course_id))
    return redirect(url_for(".selection_setup", cohort_id=cohort.id))


@bp.route("/cohorts/<int:cohort_id>/selection/publish", methods=["POST"])
@requires("catalogue.selection.manage", load=load_cohort)
def selection_publish(cohort):
    """Publish the criteria: applicants can read them and they are frozen."""
    if ConfirmForm().validate_on_submit():
        try:
            selection.publish(cohort, current_user)
        except CatalogueError as error:
            _fail(error)
        else:
            flash(_("The criteria are published."), "success")
    return redirect(url_for(".selection_setup", cohort_id=cohort.id))


@bp.route("/cohorts/<int:cohort_id>/selection/unpublish", methods=["POST"])
@requires("catalogue.selection.manage", load=load_cohort)
def selection_unpublish(cohort):
    """Withdraw the published criteria, with a reason, so that they can be changed."""
    form = UnpublishForm()
    if form.validate_on_submit():
        try:
            selection.unpublish(cohort, form.reason.data, current_user)
        except CatalogueError as error:
            _fail(error)
        else:
            flash(_("The criteria are no longer published and can be changed."), "success")
    else:
        flash(_("Give a reason for unpublishing the criteria."), "error")
    return redirect(url_for(".selection_setup", cohort_id=cohort.id))


# --- sheet, scoring, decisions -----------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/selection")
@requires("catalogue.selection.view", load=load_cohort)
def selection_sheet(cohort):
    """Applicants × criteria with weighted totals, ranks and decisions; managers reach each scoring form."""
    criteria = selection.criteria_of(cohort)
    return render_template(
        "catalogue/selection_sheet.html", cohort=cohort, criteria=criteria,
        standings=selection.standings(cohort, criteria), maximum=selection.maximum_total(criteria),
        published=selection.is_published(cohort), may_manage=can(current_user, "catalogue.selection.manage", cohort),
        confirm_form=ConfirmForm(), tz=cohort.programme.time_zone,
    )  # fmt: skip


@bp.route("/cohorts/<int:cohort_id>/selection.csv")
@requires("catalogue.selection.view", load=load_cohort)
def selection_export(cohort):
    """The selection as CSV: names, scores, totals, ranks and decisions; never sensitive information."""
    criteria = selection.criteria_of(cohort)
    ranked = selection.standings(cohort, criteria)
    return csv_response(
        f"selection-cohort-{cohort.id}.csv", selection.export_header(criteria),
        # The rows are formatted while the response streams: the request context (language, zone) must stay.
        stream_with_context(selection.export_rows(criteria, ranked, _local(cohort))),
    )  # fmt: skip


def _sensitive_information(enrolment) -> list[SensitiveAttribute]:
    """What was recorded with consent about the applicant, for those who may see it (programme managers)."""
    if not can(current_user, "catalogue.sensitive.view", enrolment):
        return []
    return list(
        db.session.execute(
            select(SensitiveAttribute).where(SensitiveAttribute.enrolment_id == enrolment.id)
            .order_by(SensitiveAttribute.recorded_at)
        ).scalars()
    )  # fmt: skip


def _render_score_form(enrolment, typed=None, decision_form=None, status=200):
    criteria, own, ranked = selection.standing_of(enrolment)
    return (
        render_template(
            "catalogue/selection_score.html", enrolment=enrolment, cohort=enrolment.cohort, criteria=criteria,
            standing=own, ranked=ranked, typed=typed, decision_form=decision_form or DecisionForm(),
            confirm_form=ConfirmForm(), open_application=enrolment.status in APPLICATION_STATUSES,
            published=selection.is_published(enrolment.cohort), sensitive=_sensitive_information(enrolment),
            maximum=selection.maximum_total(criteria), tz=enrolment.cohort.programme.time_zone,
        ),
        status,
    )  # fmt: skip


@bp.route("/enrolments/<int:enrolment_id>/selection/score", methods=["GET", "POST"])
@requires("catalogue.selection.manage", load=load_enrolment)
def selection_score(enrolment):
    """One applicant's scores, a field per criterion; bad input is refused whole and shown again."""
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            flash(_("This form has expired or was sent from another site. Please try again."), "error")
            return redirect(url_for(".selection_score", enrolment_id=enrolment.id))
        criteria = selection.criteria_of(enrolment.cohort)
        entries = {c.id: (request.form.get(f"score-{c.id}", ""), request.form.get(f"note-{c.id}", ""))
                   for c in criteria}  # fmt: skip
        try:
            changed = selection.record_scores(enrolment, entries, current_user)
        except CatalogueError as error:
            _fail(error)
            return _render_score_form(enrolment, typed=entries, status=422)
        flash(_("Scores saved: %(count)s changed.", count=changed), "success")
        return redirect(url_for(".selection_score", enrolment_id=enrolment.id))
    return _render_score_form(enrolment)


@bp.route("/enrolments/<int:enrolment_id>/selection/decision", methods=["POST"])
@requires("catalogue.selection.manage", load=load_enrolment)
def selection_decide(enrolment):
    """Record the decision on an application with its reason; the enrolment moves accordingly."""
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_score_form(enrolment, decision_form=form, status=422)
    try:
        selection.decide(enrolment, form.decision.data, form.reason.data, current_user)
    except CatalogueError as error:
        _fail(error)
        return _render_score_form(enrolment, decision_form=form, status=422)
    flash(_("The decision was recorded."), "success")
    return redirect(url_for(".selection_sheet", cohort_id=enrolment.cohort_id))


@bp.route("/enrolments/<int:enrolment_id>/selection/confirm", methods=["POST"])
@requires("catalogue.selection.manage", load=load_enrolment)
def selection_confirm(enrolment):
    """Enrol a selected applicant (the waiting list when the cohort is full)."""
    if ConfirmForm().validate_on_submit():
        try:
            result = selection.confirm(enrolment, current_user)
        except CatalogueError as error:
            _fail(error)
        else:
            flash(_("%(name)s: %(status)s.", name=enrolment.user.display_name,
                    status=selection.services.status_label(result.status)), "success")  # fmt: skip
    return redirect(url_for(".selection_sheet", cohort_id=enrolment.cohort_id))


@bp.route("/cohorts/<int:cohort_id>/selection/confirm", methods=["POST"])
@requires("catalogue.selection.manage", load=load_cohort)
def selection_confirm_all(cohort):
    """Enrol every selected applicant in rank order while places last; the rest go on the waiting list."""
    if ConfirmForm().validate_on_submit():
        enrolled, waiting = selection.confirm_all(cohort, current_user)
        flash(_("Enrolled: %(enrolled)s. On the waiting list because the cohort is full: %(waiting)s.",
                enrolled=enrolled, waiting=waiting), "success")  # fmt: skip
    return redirect(url_for(".selection_sheet", cohort_id=cohort.id))


@bp.route("/enrolments/<int:enrolment_id>/selection")
@requires("catalogue.selection.result", load=load_enrolment)
def selection_result(enrolment):
    """An applicant's own result: their score on each criterion, total, rank and the decision with its reason."""
    criteria, own, ranked = selection.standing_of(enrolment)
    published = selection.is_published(enrolment.cohort)
    return render_template(
        "catalogue/selection_result.html", enrolment=enrolment, cohort=enrolment.cohort,
        criteria=criteria if published else [], standing=own, ranked=ranked, published=published,
        maximum=selection.maximum_total(criteria), tz=enrolment.cohort.programme.time_zone,
    )  # fmt: skip
