"""The catalogue API: scoped reads, creating enrolments, organisation managers limited to their own staff."""

import secrets
from datetime import timedelta

from sqlalchemy import select

from courses.catalogue.models import Enrolment
from lms.auth.services import token_digest
from lms.database import utcnow
from lms.extensions import db
from lms.models import ApiToken, Organisation, User
from tests.courses.catalogue.factories import build_course


def _token(app, user, scopes="catalogue:read enrolments:write") -> dict:
    secret = f"pwy_{secrets.token_hex(4)}_{secrets.token_urlsafe(24)}"
    with app.app_context():
        db.session.add(ApiToken(user_id=user.id, name="t", token_hash=token_digest(secret), prefix=secret.split("_")[1],
                                scopes=scopes, expires_at=utcnow() + timedelta(days=1)))  # fmt: skip
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_api_reads_and_enrols_within_scope(app, client, make_user):
    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        db.session.commit()
        programme, course, cohort = build_course(admin, sessions=2)
        other_programme, _c, other_cohort = build_course(admin, code="OTHER")
        ids = programme.id, course.id, cohort.id, other_programme.id, other_cohort.id
        mine, theirs = Organisation(name="Alpha", kind="ngo"), Organisation(name="Bravo", kind="ngo")
        db.session.add_all([mine, theirs])
        db.session.commit()
        mine_id, theirs_id = mine.id, theirs.id
    programme_id, course_id, cohort_id, other_programme_id, other_cohort_id = ids
    manager = make_user("pm", roles=[("programme_manager", "programme", programme_id)])
    learner = make_user("learner")
    headers = _token(app, manager)

    listed = client.get("/api/v1/catalogue/programmes", headers=headers).get_json()
    assert [p["id"] for p in listed["programmes"]] == [programme_id]
    assert client.get(f"/api/v1/catalogue/programmes/{other_programme_id}", headers=headers).status_code == 403
    assert client.get(f"/api/v1/catalogue/courses/{course_id}", headers=headers).get_json()["modules"]
    assert len(client.get(f"/api/v1/catalogue/cohorts/{cohort_id}", headers=headers).get_json()["sessions"]) == 2
    created = client.post(f"/api/v1/catalogue/cohorts/{cohort_id}/enrolments", json={"user_id": learner.id},
                          headers=headers)  # fmt: skip
    assert created.status_code == 201 and created.get_json()["status"] == "enrolled"
    again = client.post(f"/api/v1/catalogue/cohorts/{cohort_id}/enrolments", json={"user_id": learner.id},
                        headers=headers)  # fmt: skip
    assert again.status_code == 409
    refused = client.post(f"/api/v1/catalogue/cohorts/{other_cohort_id}/enrolments", json={"user_id": learner.id},
                          headers=headers)  # fmt: skip
    assert refused.status_code == 403
    read_only = _token(app, manager, scopes="catalogue:read")
    assert client.post(f"/api/v1/catalogue/cohorts/{cohort_id}/enrolments", json={"user_id": learner.id},
                       headers=read_only).status_code == 403  # fmt: skip

    org_manager = make_user("orgmgr", roles=[("organisation_manager", "organisation", mine_id)])
    staff = make_user("staff", roles=[("member", "organisation", mine_id)])
    outsider = make_user("outsider", roles=[("member", "organisation", theirs_id)])
    org_headers = _token(app, org_manager)
    path = f"/api/v1/catalogue/organisations/{mine_id}/enrolments"
    assert (
        client.post(path, json={"user_id": outsider.id, "cohort_id": cohort_id}, headers=org_headers).status_code == 422
    )
    assert client.post(f"/api/v1/catalogue/organisations/{theirs_id}/enrolments",
                       json={"user_id": outsider.id, "cohort_id": cohort_id}, headers=org_headers).status_code == 403  # fmt: skip
    assert client.post(path, json={"user_id": staff.id, "cohort_id": cohort_id}, headers=org_headers).status_code == 201
    with app.app_context():
        rows = db.session.execute(select(Enrolment.user_id, Enrolment.sponsor_id).order_by(Enrolment.id)).all()
        assert rows == [(learner.id, None), (staff.id, mine_id)]
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/catalogue/cohorts/{cohort_id}/enrolments" in document["paths"]
