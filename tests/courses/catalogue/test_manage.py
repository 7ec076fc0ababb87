"""Programme managers manage cohorts (details, trainers), arrange content, and record sensitive information."""

import pytest
from sqlalchemy import select

from courses.catalogue import services
from courses.catalogue.models import Cohort, Enrolment
from lms.extensions import db
from lms.models import AuditEvent, Membership, User
from tests.courses.catalogue.factories import build_course
from tests.helpers import csrf_token, login_as, logout


@pytest.fixture
def built(app, make_user):
    """A programme with a course (2 modules × 2 lessons) and a cohort; its programme manager."""
    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        db.session.commit()
        programme, course, cohort = build_course(admin, modules=2, lessons=2, code="MSI")
        ids = {"programme_id": programme.id, "course_id": course.id, "cohort_id": cohort.id}
    ids["manager"] = make_user("pm", roles=[("programme_manager", "programme", ids["programme_id"])])
    return ids


def _post(client, form_path, data, action=None):
    return client.post(action or form_path, data={**data, "csrf_token": csrf_token(client, form_path)})


# --- cohorts and trainers ----------------------------------------------------------------------------


def test_manager_edits_a_cohort_and_bad_dates_change_nothing(app, client, built):
    cohort_id = built["cohort_id"]
    login_as(client, built["manager"])
    assert "Edit cohort" in client.get(f"/catalogue/cohorts/{cohort_id}").get_data(as_text=True)
    edit = f"/catalogue/cohorts/{cohort_id}/edit"
    response = _post(client, edit, {"name": "Niš evening", "city": "Niš", "language": "sr", "capacity": "25",
                                    "status": "closed", "start_date": "2026-05-04", "end_date": "2026-06-30"})  # fmt: skip
    assert response.status_code == 302
    page = client.get(f"/catalogue/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Niš evening" in page and "Niš" in page and "/ 25" in page
    refused = _post(client, edit, {"name": "Broken", "city": "Niš", "language": "sr", "status": "open",
                                   "start_date": "2026-06-30", "end_date": "2026-05-04"})  # fmt: skip
    assert refused.status_code == 200 and "end date is before the start date" in refused.get_data(as_text=True)
    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        assert (cohort.name, cohort.city, cohort.language, cohort.capacity, cohort.status) == (
            "Niš evening", "Niš", "sr", 25, "closed")  # fmt: skip
        assert (
            db.session.execute(select(AuditEvent).where(AuditEvent.action == "catalogue.cohort.updated"))
            .scalar_one()
            .actor
            == built["manager"].pseudonym
        )


def test_manager_assigns_and_removes_a_trainer_who_then_reaches_the_cohort(app, client, make_user, built):
    cohort_id = built["cohort_id"]
    trainer = make_user("trainer1", first_name="Elena", email="elena@example.org")
    trainers_page = f"/catalogue/cohorts/{cohort_id}/trainers"

    login_as(client, trainer)
    assert client.get(f"/catalogue/cohorts/{cohort_id}").status_code == 403
    assert client.get(trainers_page).status_code == 403  # a trainer cannot hand out trainer roles
    logout(client)

    login_as(client, built["manager"])
    assert _post(client, trainers_page, {"login": "ELENA@example.org"}).status_code == 302
    page = client.get(trainers_page).get_data(as_text=True)
    assert "Elena" in page and "is now a trainer" in page
    again = _post(client, trainers_page, {"login": "trainer1"}).get_data(as_text=True)
    assert "already a trainer" in again
    unknown = _post(client, trainers_page, {"login": "nobody"}).get_data(as_text=True)
    assert "No account has that" in unknown
    logout(client)

    login_as(client, trainer)
    assert client.get(f"/catalogue/cohorts/{cohort_id}").status_code == 200
    logout(client)

    login_as(client, built["manager"])
    response = _post(client, trainers_page, {"user": trainer.id}, action=f"{trainers_page}/remove")
    assert response.status_code == 302
    assert "no longer a trainer" in client.get(trainers_page).get_data(as_text=True)
    logout(client)
    login_as(client, trainer)
    assert client.get(f"/catalogue/cohorts/{cohort_id}").status_code == 403
    with app.app_context():
        actions = (
            db.session.execute(
                select(AuditEvent.action).where(AuditEvent.action.like("membership.%")).order_by(AuditEvent.seq)
            )
            .scalars()
            .all()
        )
        assert actions == ["membership.granted", "membership.revoked"]
        assert db.session.execute(select(Membership).where(Membership.role == "trainer")).first() is None


def test_a_learner_of_the_cohort_cannot_be_its_trainer(app, client, make_user, built):
    learner = make_user("learner1")
    with app.app_context():
        services.enrol(db.session.get(User, learner.id), db.session.get(Cohort, built["cohort_id"]), None)
    login_as(client, built["manager"])
    page = _post(client, f"/catalogue/cohorts/{built['cohort_id']}/trainers", {"login": "learner1"})
    assert "is a learner of this cohort" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Membership).where(Membership.role == "trainer")).first() is None
        assert db.session.execute(select(Enrolment.status)).scalar_one() == "enrolled"
