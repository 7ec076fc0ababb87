"""The transparent selection of applicants to a cohort: published criteria, scores, ranking and decisions.

A programme manager defines the criteria (name, description, maximum score, weight) and publishes them;
from then on they are frozen, so that everyone is judged by what was published. Changing them again
needs unpublishing with a reason, which the audit chain keeps. Applicants are scored on every criterion,
ranked by their weighted total with a published tie-break rule, and decided on (selected, not selected,
waiting list) with a reason; a decision moves the enrolment along its lifecycle through
``services.change_status``, and confirming a selected applicant enrols them when a place is free.

A criterion that depends on a sensitive attribute (ethnicity, disability, health) records only the score,
never the attribute nor a note that could repeat it.

Every write follows the catalogue's rule: check, change, audit, commit; refusals raise ``CatalogueError``
with a translated message and change nothing.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload

from lms import audit
from lms.database import begin_write, utcnow
from lms.extensions import db
from lms.models import User

from . import services
from .models import (
    DECISIONS,
    Cohort,
    Enrolment,
    SelectionCriterion,
    SelectionDecision,
    SelectionPublication,
    SelectionScore,
)
from .services import CatalogueError

# Where each decision moves the enrolment; "not selected" ends the application.
DECISION_STATUS = {"selected": "selected", "waitlisted": "waitlisted", "rejected": "withdrawn"}
CRITERION_FIELDS = ("name", "description", "max_score", "weight", "is_sensitive")
MAX_SCORE_LIMIT = 100
MAX_WEIGHT = 10
NOTE_LIMIT = 2000
WHOLE_NUMBER = re.compile(r"[0-9]{1,6}")  # ASCII digits only: int() would also take "٣", "1_0" or "+1"


def decision_label(decision: str | None) -> str:
    """A decision in the page's language."""
    labels = {"selected": _("selected"), "rejected": _("not selected"), "waitlisted": _("waiting list")}
    return labels.get(decision or "", decision or "")


# --- criteria and their publication ------------------------------------------------------------------


def criteria_of(cohort: Cohort) -> list[SelectionCriterion]:
    """The criteria a cohort's applicants are judged by: its own and those set for every cohort of its course."""
    return list(
        db.session.execute(
            select(SelectionCriterion)
            .where(
                SelectionCriterion.course_id == cohort.course_id,
                or_(SelectionCriterion.cohort_id == cohort.id, SelectionCriterion.cohort_id.is_(None)),
            )
            .order_by(SelectionCriterion.position, SelectionCriterion.id)
        ).scalars()
    )


def publication_of(cohort: Cohort) -> SelectionPublication | None:
    """The cohort's publication record (None before the criteria were first published)."""
    return db.session.execute(
        select(SelectionPublication).where(SelectionPublication.cohort_id == cohort.id)
    ).scalar_one_or_none()


def is_published(cohort: Cohort) -> bool:
    """Whether the cohort's criteria are published now."""
    publication = publication_of(cohort)
    return publication is not None and publication.published_at is not None


def _frozen(criterion: SelectionCriterion) -> bool:
    """A criterion is frozen while a cohort that uses it has its criteria published."""
    in_use = (
        [SelectionPublication.cohort_id == criterion.cohort_id]
        if criterion.cohort_id
        else [SelectionPublication.cohort_id.in_(select(Cohort.id).where(Cohort.course_id == criterion.course_id))]
    )
    return bool(
        db.session.execute(
            select(SelectionPublication.id).where(*in_use, SelectionPublication.published_at.is_not(None)).limit(1)
        ).first()
    )


def _refuse_if_frozen(criterion: SelectionCriterion) -> None:
    if _frozen(criterion):
        raise CatalogueError(
            _("The criteria are published and cannot be changed. Unpublish them first, giving a reason.")
        )


def _clean_criterion(values: dict) -> dict:
    values = {name: values.get(name) for name in CRITERION_FIELDS}
    values["name"] = (values["name"] or "").strip()
    values["description"] = (values["description"] or "").strip()
    values["is_sensitive"] = bool(values["is_sensitive"])
    if not values["name"]:
        raise CatalogueError(_("Give the criterion a name."))
    if not isinstance(values["max_score"], int) or not 1 <= values["max_score"] <= MAX_SCORE_LIMIT:
        raise CatalogueError(_("The maximum score is a whole number from 1 to %(limit)s.", limit=MAX_SCORE_LIMIT))
    if not isinstance(values["weight"], int) or not 1 <= values["weight"] <= MAX_WEIGHT:
        raise CatalogueError(_("The weight is a whole number from 1 to %(limit)s.", limit=MAX_WEIGHT))
    return values


def _criterion_state(criterion: SelectionCriterion) -> dict:
    return {name: getattr(criterion, name) for name in (*CRITERION_FIELDS, "position", "cohort_id")}


def add_criterion(cohort: Cohort, values: dict, by: User) -> SelectionCriterion:
    """Add a criterion at the end of a cohort's list; refused while the criteria are published."""
    values = _clean_criterion(values)
    if is_published(cohort):
        raise CatalogueError(
            _("The criteria are published and cannot be changed. Unpublish them first, giving a reason.")
        )
    begin_write()
    last = max((c.position for c in criteria_of(cohort)), default=0)
    criterion = SelectionCriterion(course_id=cohort.course_id, cohort_id=cohort.id, position=last + 1, **values)
    db.session.add(criterion)
    db.session.flush()
    audit.append("catalogue.selection.criterion_added", criterion, actor=by, after=_criterion_state(criterion))
    db.session.commit()
    return criterion


def _highest_score(criterion: SelectionCriterion) -> int | None:
    return db.session.execute(
        select(SelectionScore.score)
        .where(SelectionScore.criterion_id == criterion.id)
        .order_by(SelectionScore.score.desc())
        .limit(1)
    ).scalar()


def update_criterion(criterion: SelectionCriterion, values: dict, by: User) -> SelectionCriterion:
    """Change a criterion that is not published; its maximum cannot drop below a score already given."""
    values = _clean_criterion(values)
    _refuse_if_frozen(criterion)
    highest = _highest_score(criterion)
    if highest is not None and values["max_score"] < highest:
        raise CatalogueError(
            _("An applicant already has %(score)s points on this criterion: the maximum cannot be lower.",
              score=highest)
        )  # fmt: skip
    begin_write()
    before = _criterion_state(criterion)
    for name, value in values.items():
        setattr(criterion, name, value)
    audit.append("catalogue.selection.criterion_changed", criterion, actor=by, before=before,
                 after=_criterion_state(criterion))  # fmt: skip
    db.session.commit()
    return criterion


def delete_criterion(criterion: SelectionCriterion, by: User) -> None:
    """Delete a criterion that is not published and on which nobody has been scored."""
    _refuse_if_frozen(criterion)
    if _highest_score(criterion) is not None:
        raise CatalogueError(_("Applicants have been scored on this criterion, so it cannot be deleted."))
    begin_write()
    audit.append("catalogue.selection.criterion_deleted", criterion, actor=by, before=_criterion_state(criterion))
    db.session.delete(criterion)
    db.session.commit()


def publish(cohort: Cohort, by: User) -> SelectionPublication:
    """Publish a cohort's criteria: applicants can read them, and they are frozen from now on.

    The audit event records exactly what was published.
    """
    criteria = criteria_of(cohort)
    if not criteria:
        raise CatalogueError(_("Add at least one criterion before publishing."))
    if is_published(cohort):
        raise CatalogueError(_("The criteria are already published."))
    begin_write()
    publication = publication_of(cohort)
    if publication is None:
        publication = SelectionPublication(cohort_id=cohort.id)
        db.session.add(publication)
    publication.published_at, publication.published_by_id = utcnow(), by.id
    publication.unpublished_at, publication.unpublished_by_id, publication.unpublish_reason = None, None, ""
    db.session.flush()
    audit.append("catalogue.selection.published", publication, actor=by,
                 after={"cohort": cohort.id, "published_at": publication.published_at,
                        "criteria": [_criterion_state(c) for c in criteria]})  # fmt: skip
    db.session.commit()
    return publication


def unpublish(cohort: Cohort, reason: str, by: User) -> SelectionPublication:
    """Withdraw the published criteria so they can be changed; the reason is kept and audited."""
    if not (reason or "").strip():
        raise CatalogueError(_("Give a reason for unpublishing the criteria."))
    if not is_published(cohort):
        raise CatalogueError(_("The criteria are not published."))
    begin_write()
    publication = publication_of(cohort)
    before = {"published_at": publication.published_at, "published_by": publication.published_by_id}
    publication.published_at, publication.published_by_id = None, None
    publication.unpublished_at, publication.unpublished_by_id = utcnow(), by.id
    publication.unpublish_reason = reason.strip()
    audit.append("catalogue.selection.unpublished", publication, actor=by, before=before,
                 after={"unpublished_at": publication.unpublished_at}, reason=reason.strip())  # fmt: skip
    db.session.commit()
    return publication


# --- totals and ranking ------------------------------------------------------------------------------


@dataclass
class Standing:
    """One applicant on the scoring sheet: their scores, weighted total, rank and latest decision."""

    enrolment: Enrolment
    scores: dict = field(default_factory=dict)  # criterion id -> SelectionScore
    decision: SelectionDecision | None = None
    total: int | None = None  # None until every criterion is scored
    rank: int | None = None
    tied: bool = False  # shares its total with another applicant: the tie-break rule decided the order


def weighted_total(criteria, points: dict[int, int]) -> int | None:
    """Σ score × weight over the criteria; None while any criterion has no score."""
    if any(c.id not in points for c in criteria):
        return None
    return sum(points[c.id] * c.weight for c in criteria)


def maximum_total(criteria) -> int:
    """The highest weighted total an applicant can reach."""
    return sum(c.max_score * c.weight for c in criteria)


def rank(standings: list[Standing], criteria) -> list[Standing]:
    """Order applicants and number the fully scored ones 1, 2, 3…; the others follow unranked.

    Higher weighted total first. On equal totals, the higher score on the first criterion, then on the
    next, in the published order; if every score is equal, the earlier application comes first.
    """
    for standing in standings:
        standing.total = weighted_total(criteria, {cid: s.score for cid, s in standing.scores.items()})

    def key(standing: Standing):
        enrolment = standing.enrolment
        applied = enrolment.applied_at or enrolment.created_at or datetime.min
        if standing.total is None:
            return (1, 0, (), applied, enrolment.id)
        by_criterion = tuple(-standing.scores[c.id].score for c in criteria)
        return (0, -standing.total, by_criterion, applied, enrolment.id)

    standings.sort(key=key)
    totals: dict[int, int] = {}
    for standing in standings:
        if standing.total is not None:
            totals[standing.total] = totals.get(standing.total, 0) + 1
    number = 0
    for standing in standings:
        if standing.total is not None:
            number += 1
            standing.rank, standing.tied = number, totals[standing.total] > 1
    return standings


def standings(cohort: Cohort, criteria=None) -> list[Standing]:
    """Everyone in the cohort's selection (open applications and anyone already scored or decided), ranked.

    Three queries whatever the number of applicants: enrolments with their people, scores, decisions.
    """
    criteria = criteria_of(cohort) if criteria is None else criteria
    scored = exists().where(SelectionScore.enrolment_id == Enrolment.id)
    decided = exists().where(SelectionDecision.enrolment_id == Enrolment.id)
    enrolments = db.session.execute(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id, or_(Enrolment.status.in_(services.APPLICATION_STATUSES), scored, decided))
        .options(joinedload(Enrolment.user))
    ).scalars().all()  # fmt: skip
    rows = {e.id: Standing(e) for e in enrolments}
    criterion_ids = {c.id for c in criteria}
    for score in db.session.execute(
        select(SelectionScore).join(Enrolment, Enrolment.id == SelectionScore.enrolment_id)
        .where(Enrolment.cohort_id == cohort.id).options(joinedload(SelectionScore.by))
    ).scalars():  # fmt: skip
        if score.enrolment_id in rows and score.criterion_id in criterion_ids:
            rows[score.enrolment_id].scores[score.criterion_id] = score
    for decision in db.session.execute(
        select(SelectionDecision).join(Enrolment, Enrolment.id == SelectionDecision.enrolment_id)
        .where(Enrolment.cohort_id == cohort.id).options(joinedload(SelectionDecision.by))
        .order_by(SelectionDecision.id)
    ).scalars():  # fmt: skip
        if decision.enrolment_id in rows:
            rows[decision.enrolment_id].decision = decision  # the latest one wins
    return rank(list(rows.values()), criteria)


def standing_of(enrolment: Enrolment) -> tuple[list[SelectionCriterion], Standing | None, int]:
    """The cohort's criteria, this applicant's standing, and how many applicants are ranked."""
    criteria = criteria_of(enrolment.cohort)
    ranked = standings(enrolment.cohort, criteria)
    own = next((s for s in ranked if s.enrolment.id == enrolment.id), None)
    return criteria, own, sum(1 for s in ranked if s.rank is not None)


# --- scoring -----------------------------------------------------------------------------------------


def _refuse_unless_open(enrolment: Enrolment) -> None:
    if enrolment.status not in services.APPLICATION_STATUSES:
        raise CatalogueError(_("This is no longer an open application (it is %(status)s).",
                               status=services.status_label(enrolment.status)))  # fmt: skip
    if not is_published(enrolment.cohort):
        raise CatalogueError(_("Applicants are scored and decided on only against published criteria."))


def _parse_score(text: str, criterion: SelectionCriterion) -> int:
    text = (text or "").strip()
    if not WHOLE_NUMBER.fullmatch(text) or not 0 <= int(text) <= criterion.max_score:
        raise CatalogueError(_("%(criterion)s: enter a whole number from 0 to %(max)s.", criterion=criterion.name,
                               max=criterion.max_score))  # fmt: skip
    return int(text)


def record_scores(enrolment: Enrolment, entries: dict, by: User) -> int:
    """Record an applicant's scores: ``entries`` maps criterion ids to ``(score text, note)`` as typed.

    Everything is checked before anything is written: a score outside 0…maximum, a note on a criterion
    that depends on a sensitive attribute, or a note without a score refuses the whole form. An empty
    score leaves that criterion as it was. Each change is audited with its before and after; returns how
    many scores changed.
    """
    _refuse_unless_open(enrolment)
    criteria = {c.id: c for c in criteria_of(enrolment.cohort)}
    wanted, problems = {}, []
    for criterion_id, (text, note) in entries.items():
        criterion = criteria.get(criterion_id)
        if criterion is None:
            problems.append(_("A score names a criterion this selection does not have."))
            continue
        note = (note or "").strip()
        if criterion.is_sensitive and note:
            problems.append(_("%(criterion)s depends on sensitive information: record only the score, without a "
                              "note.", criterion=criterion.name))  # fmt: skip
        elif len(note) > NOTE_LIMIT:
            problems.append(_("%(criterion)s: the note is longer than %(limit)s characters.",
                              criterion=criterion.name, limit=NOTE_LIMIT))  # fmt: skip
        if not (text or "").strip():
            if note:
                problems.append(_("%(criterion)s: give a score with the note.", criterion=criterion.name))
            continue
        try:
            wanted[criterion_id] = (_parse_score(text, criterion), note)
        except CatalogueError as error:
            problems.append(str(error))
    if problems:
        raise CatalogueError(" ".join(problems))
    by_id, enrolment_id = by.id, enrolment.id
    begin_write()
    existing = {
        s.criterion_id: s
        for s in db.session.execute(select(SelectionScore).where(SelectionScore.enrolment_id == enrolment_id)).scalars()
    }
    changed = 0
    for criterion_id, (points, note) in wanted.items():
        score = existing.get(criterion_id)
        before = {"criterion": criterion_id, "score": score.score, "note": score.note} if score else None
        if score is not None and (score.score, score.note) == (points, note):
            continue
        if score is None:
            score = SelectionScore(enrolment_id=enrolment_id, criterion_id=criterion_id, score=points)
            db.session.add(score)
        score.score, score.note, score.by_id, score.at = points, note, by_id, utcnow()
        db.session.flush()
        audit.append("catalogue.selection.scored", score, actor=by, subject=enrolment.user, before=before,
                     after={"criterion": criterion_id, "score": points, "note": note})  # fmt: skip
        changed += 1
    db.session.commit()
    return changed


# --- decisions and confirmation ----------------------------------------------------------------------


def decide(enrolment: Enrolment, decision: str, reason: str, by: User) -> SelectionDecision:
    """Record a decision with its reason and move the enrolment: selected, waiting list, or withdrawn when
    not selected. Needs published criteria and a score on every one of them."""
    if decision not in DECISIONS:
        raise CatalogueError(_("Choose selected, not selected or waiting list."))
    reason = (reason or "").strip()
    if not reason:
        raise CatalogueError(_("Give the reason for the decision."))
    _refuse_unless_open(enrolment)
    criteria, own, _ranked = standing_of(enrolment)
    if own is None or own.total is None:
        raise CatalogueError(_("Score every criterion before deciding."))
    target = DECISION_STATUS[decision]
    if target != enrolment.status and target not in services.TRANSITIONS[enrolment.status]:
        raise CatalogueError(_("This step is not possible for an enrolment that is %(status)s.",
                               status=services.status_label(enrolment.status)))  # fmt: skip
    begin_write()
    record = SelectionDecision(enrolment_id=enrolment.id, decision=decision, total_score=own.total, by_id=by.id,
                               at=utcnow(), reason=reason)  # fmt: skip
    db.session.add(record)
    db.session.flush()
    audit.append("catalogue.selection.decided", record, actor=by, subject=enrolment.user,
                 after={"enrolment": enrolment.id, "decision": decision, "total": own.total, "rank": own.rank},
                 reason=reason)  # fmt: skip
    if target == enrolment.status:
        db.session.commit()
        return record
    try:
        services.change_status(enrolment, target, by, reason)  # audits the step and commits both together
    except CatalogueError:
        db.session.rollback()
        raise
    return record


def confirm(enrolment: Enrolment, by: User) -> Enrolment:
    """Enrol a selected applicant; when the cohort is full they go on the waiting list instead."""
    if enrolment.status != "selected":
        raise CatalogueError(_("Only a selected applicant can be confirmed."))
    return services.change_status(enrolment, "enrolled", by, _("Selected in the published selection."))


def confirm_all(cohort: Cohort, by: User) -> tuple[int, int]:
    """Confirm every selected applicant in rank order, so the best ranked take the free places first and
    the rest go on the waiting list in that order; returns (enrolled, waiting list)."""
    enrolled = waiting = 0
    for standing in standings(cohort):
        if standing.enrolment.status == "selected":
            result = confirm(standing.enrolment, by)
            if result.status == "enrolled":
                enrolled += 1
            else:
                waiting += 1
    return enrolled, waiting


# --- export ------------------------------------------------------------------------------------------


def export_rows(criteria, ranked: list[Standing], format_time):
    """Rows of the selection export, in rank order: name, each score, total, rank, decision, by, at, reason.

    Never a sensitive attribute: a criterion that depends on one contributes its score only.
    """
    for standing in ranked:
        decision = standing.decision
        yield [
            standing.enrolment.user.display_name,
            *(standing.scores[c.id].score if c.id in standing.scores else "" for c in criteria),
            "" if standing.total is None else standing.total,
            "" if standing.rank is None else standing.rank,
            decision_label(decision.decision) if decision else "",
            decision.by.display_name if decision and decision.by else "",
            format_time(decision.at) if decision else "",
            decision.reason if decision else "",
        ]


def export_header(criteria) -> list[str]:
    """The export's column names in the page's language."""
    return [
        _("Applicant"),
        *(_("%(criterion)s (0–%(max)s, weight %(weight)s)", criterion=c.name, max=c.max_score, weight=c.weight)
          for c in criteria),
        _("Weighted total"), _("Rank"), _("Decision"), _("Decided by"), _("Decided at"), _("Reason"),
    ]  # fmt: skip


def own_application(cohort_id: int, user_id: int) -> int | None:
    """The id of the person's enrolment in the cohort (whatever became of the application), or None."""
    return db.session.execute(
        select(Enrolment.id).where(Enrolment.cohort_id == cohort_id, Enrolment.user_id == user_id)
    ).scalar()
