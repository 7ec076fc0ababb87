"""``/api/v1/catalogue``: scoped reads of programmes, courses, cohorts, sessions and enrolments; creating enrolments.

Every route is declared with ``api_route`` (token scope, then the same ``can`` as the pages), so the
OpenAPI document lists it and the tenant matrix walks it.
"""

from flask import Blueprint, abort
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms import access
from lms.api.auth import api_route, json_error, request_body
from lms.extensions import db
from lms.models import User

from . import services
from .models import ENROLMENT_STATUSES, Enrolment, Programme, Session
from .views import load_cohort, load_organisation, load_programme, load_reached_course, staff_of

bp = Blueprint("catalogue_api", __name__, url_prefix="/api/v1/catalogue")

ID = {"type": "integer"}
TEXT = {"type": "string"}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
PROGRAMME = {
    "type": "object",
    "properties": {"id": ID, "code": TEXT, "name": TEXT, "funder": TEXT, "region": TEXT, "time_zone": TEXT,
                   "start_date": NULLABLE_DATE, "end_date": NULLABLE_DATE},
}  # fmt: skip
ENROLMENT = {
    "type": "object",
    "properties": {"id": ID, "user_id": ID, "cohort_id": ID, "sponsor_id": {"type": ["integer", "null"]},
                   "status": {"type": "string", "enum": list(ENROLMENT_STATUSES)}},
}  # fmt: skip
NEW_ENROLMENT = {"type": "object", "required": ["user_id"], "properties": {"user_id": ID}}
NEW_STAFF_ENROLMENT = {"type": "object", "required": ["user_id", "cohort_id"],
                       "properties": {"user_id": ID, "cohort_id": ID}}  # fmt: skip


def _date(value):
    return value.isoformat() if value else None


def programme_document(programme: Programme) -> dict:
    """A programme as the API shows it."""
    return {"id": programme.id, "code": programme.code, "name": programme.name, "funder": programme.funder,
            "region": programme.region, "time_zone": programme.time_zone, "start_date": _date(programme.start_date),
            "end_date": _date(programme.end_date)}  # fmt: skip


def enrolment_document(enrolment: Enrolment) -> dict:
    """An enrolment as the API shows it."""
    return {"id": enrolment.id, "user_id": enrolment.user_id, "cohort_id": enrolment.cohort_id,
            "sponsor_id": enrolment.sponsor_id, "status": enrolment.status}  # fmt: skip


@bp.route("/programmes")
@api_route("catalogue.programme.list", "catalogue:read",
           response_schema={"type": "object", "properties": {"programmes": {"type": "array", "items": PROGRAMME}}})  # fmt: skip
def programmes():
    """The programmes the token's owner builds or audits."""
    ids = access.scope_ids(current_user, "catalogue.programme.view", "programme")
    query = select(Programme).order_by(Programme.id)
    if ids is not None:
        query = query.where(Programme.id.in_(ids))
    return {"programmes": [programme_document(p) for p in db.session.execute(query).scalars()]}


@bp.route("/programmes/<int:programme_id>")
@api_route("catalogue.programme.view", "catalogue:read", load=load_programme, response_schema=PROGRAMME)
def programme(programme):
    """One programme with its courses."""
    return {**programme_document(programme),
            "courses": [{"id": c.id, "code": c.code, "title": c.title, "kind": c.kind} for c in programme.courses]}  # fmt: skip


@bp.route("/courses/<int:course_id>")
@api_route("catalogue.course.view", "catalogue:read", load=load_reached_course)
def course(reached):
    """One course: what it is and its modules."""
    course = reached.obj
    return {"id": course.id, "programme_id": course.programme_id, "code": course.code, "title": course.title,
            "kind": course.kind, "default_language": course.default_language, "eqf_level": course.eqf_level,
            "theory_hours": course.theory_hours, "practice_hours": course.practice_hours,
            "modules": [{"id": m.id, "position": m.position, "title": m.title} for m in course.modules]}  # fmt: skip


@bp.route("/cohorts/<int:cohort_id>")
@api_route("catalogue.cohort.view", "catalogue:read", load=load_cohort)
def cohort(cohort):
    """One cohort with its sessions (UTC times and the programme's time zone)."""
    sessions = db.session.execute(
        select(Session).where(Session.cohort_id == cohort.id).order_by(Session.starts_at)
    ).scalars()  # fmt: skip
    return {"id": cohort.id, "course_id": cohort.course_id, "name": cohort.name, "city": cohort.city,
            "language": cohort.language, "start_date": _date(cohort.start_date), "end_date": _date(cohort.end_date),
            "capacity": cohort.capacity, "status": cohort.status, "time_zone": cohort.programme.time_zone,
            "sessions": [{"id": s.id, "starts_at": s.starts_at.isoformat() + "Z", "ends_at": s.ends_at.isoformat() + "Z",
                          "mode": s.mode, "kind": s.kind, "place": s.place, "meeting_url": s.meeting_url,
                          "module_id": s.module_id} for s in sessions]}  # fmt: skip


@bp.route("/cohorts/<int:cohort_id>/enrolments")
@api_route("catalogue.cohort.view", "catalogue:read", load=load_cohort,
           response_schema={"type": "object", "properties": {"enrolments": {"type": "array", "items": ENROLMENT}}})  # fmt: skip
def cohort_enrolments(cohort):
    """The cohort's enrolments and their status."""
    rows = db.session.execute(select(Enrolment).where(Enrolment.cohort_id == cohort.id).order_by(Enrolment.id))
    return {"enrolments": [enrolment_document(e) for e in rows.scalars()]}


def _enrol(learner, cohort, sponsor=None):
    try:
        enrolment = services.enrol(learner, cohort, current_user, sponsor=sponsor)
    except services.CatalogueError as error:
        abort(json_error(409, str(error)))
    return enrolment_document(enrolment), 201


@bp.route("/cohorts/<int:cohort_id>/enrolments", methods=["POST"])
@api_route("catalogue.enrolment.create", "enrolments:write", load=load_cohort, request_schema=NEW_ENROLMENT,
           response_schema=ENROLMENT, status=201)  # fmt: skip
def create_enrolment(cohort):
    """A programme manager enrols a person (enrolled, or waitlisted when the cohort is full)."""
    learner = db.session.get(User, request_body()["user_id"])
    if learner is None:
        abort(json_error(422, _("There is no such person.")))
    return _enrol(learner, cohort)


@bp.route("/organisations/<int:organisation_id>/enrolments", methods=["POST"])
@api_route("catalogue.enrolment.sponsor", "enrolments:write", load=load_organisation,
           request_schema=NEW_STAFF_ENROLMENT, response_schema=ENROLMENT, status=201)  # fmt: skip
def create_staff_enrolment(organisation):
    """An organisation manager enrols one of their own staff in an open cohort; anyone else is refused."""
    body = request_body()
    learner = next((p for p in staff_of(organisation.id) if p.id == body["user_id"]), None)
    cohort = load_cohort(body["cohort_id"])
    if learner is None or cohort is None or cohort.status != "open":
        abort(json_error(422, _("Choose one of your staff and an open cohort.")))
    return _enrol(learner, cohort, sponsor=organisation)
