"""``/api/v1/catalogue/cohorts/<id>/selection``: the selection as JSON, for the same people as the CSV export.

Programme managers and the programme's auditors read it with a ``catalogue:read`` token; like the export it
carries scores, totals, ranks and decisions, never sensitive information.
"""

from lms.api.auth import api_route

from . import selection
from .api import bp
from .views import load_cohort

NULLABLE_INT = {"type": ["integer", "null"]}
NULLABLE_TEXT = {"type": ["string", "null"]}
SELECTION = {
    "type": "object",
    "properties": {
        "cohort_id": {"type": "integer"},
        "published_at": {"type": ["string", "null"], "format": "date-time"},
        "criteria": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"},
            "max_score": {"type": "integer"}, "weight": {"type": "integer"},
            "depends_on_sensitive_information": {"type": "boolean"}}}},
        "applicants": {"type": "array", "items": {"type": "object", "properties": {
            "enrolment_id": {"type": "integer"}, "user_id": {"type": "integer"}, "name": {"type": "string"},
            "status": {"type": "string"}, "scores": {"type": "object"}, "total": NULLABLE_INT, "rank": NULLABLE_INT,
            "tied": {"type": "boolean"}, "decision": NULLABLE_TEXT, "decided_by": NULLABLE_TEXT,
            "decided_at": {"type": ["string", "null"], "format": "date-time"}, "reason": NULLABLE_TEXT}}},
    },
}  # fmt: skip


def _utc(value) -> str | None:
    return value.isoformat() + "Z" if value else None


@bp.route("/cohorts/<int:cohort_id>/selection")
@api_route("catalogue.selection.view", "catalogue:read", load=load_cohort, response_schema=SELECTION)
def cohort_selection(cohort):
    """The cohort's criteria and every applicant's scores, weighted total, rank and decision, in rank order."""
    criteria = selection.criteria_of(cohort)
    publication = selection.publication_of(cohort)
    applicants = []
    for standing in selection.standings(cohort, criteria):
        decision, enrolment = standing.decision, standing.enrolment
        applicants.append({
            "enrolment_id": enrolment.id, "user_id": enrolment.user_id, "name": enrolment.user.display_name,
            "status": enrolment.status, "scores": {str(cid): s.score for cid, s in standing.scores.items()},
            "total": standing.total, "rank": standing.rank, "tied": standing.tied,
            "decision": decision.decision if decision else None,
            "decided_by": decision.by.display_name if decision and decision.by else None,
            "decided_at": _utc(decision.at) if decision else None, "reason": decision.reason if decision else None,
        })  # fmt: skip
    return {
        "cohort_id": cohort.id,
        "published_at": _utc(publication.published_at) if publication else None,
        "criteria": [{"id": c.id, "name": c.name, "description": c.description, "max_score": c.max_score,
                      "weight": c.weight, "depends_on_sensitive_information": c.is_sensitive} for c in criteria],
        "applicants": applicants,
    }  # fmt: skip
