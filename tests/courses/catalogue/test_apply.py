"""Self-application: people find cohorts open for application, apply, follow their applications; programme
managers select, enrol or withdraw applicants; a full cohort puts new applications on the waiting list."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from courses.catalogue import services
from courses.catalogue.models import Cohort, Enrolment
from lms.extensions import db
from lms.models import AuditEvent, User
from tests.courses.catalogue.factories import build_course
from tests.helpers import csrf_token, login_as, logout


@pytest.fixture
def open_cohort(app, make_user):
    """A self-application course with a cohort starting in ten days (2 places), a closed-to-applications course,
    and a self-application cohort that has already started."""
    today = date.today()
    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        db.session.commit()
        programme, _course, cohort = build_course(admin, code="VAL", capacity=2, self_application=True,
                                                  start=today + timedelta(days=10), end=today + timedelta(days=60))  # fmt: skip
        cohort.name, cohort.city, cohort.language = "Valjevo autumn", "Valjevo", "sr_Latn"
        _p, _c, private = build_course(admin, code="PRIV", start=today + timedelta(days=10))
        private.name = "Invitation only"
        _p, _c, started = build_course(admin, code="LATE", self_application=True, start=today - timedelta(days=1))
        started.name = "Already running"
        db.session.commit()
        return {"cohort_id": cohort.id, "programme_id": programme.id, "private_id": private.id}


def _apply(client, cohort_id):
    return client.post(
        f"/catalogue/cohorts/{cohort_id}/apply", data={"csrf_token": csrf_token(client, "/catalogue/apply")}
    )


def test_person_sees_open_cohorts_applies_and_follows_the_application(app, client, make_user, open_cohort):
    learner = make_user("roma1", first_name="Dragana")
    login_as(client, learner)
    page = client.get("/catalogue/apply").get_data(as_text=True)
    assert "Valjevo autumn" in page and "<dd>Valjevo</dd>" in page and "<dd>Srpski</dd>" in page
    assert "Invitation only" not in page and "Already running" not in page
    assert "Places left" in page and ">2<" in page
    assert 'href="/catalogue/apply"' in client.get("/").get_data(as_text=True)  # in the navigation

    response = _apply(client, open_cohort["cohort_id"])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your application was sent" in page
    assert "My applications" in page and "applied" in page and "You have applied" in page
    assert "applied" in client.get("/").get_data(as_text=True)  # the dashboard's course list shows the status
    with app.app_context():
        enrolment = db.session.execute(select(Enrolment)).scalar_one()
        assert (enrolment.user_id, enrolment.status) == (learner.id, "applied")
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "catalogue.enrolment.created")
        ).scalar_one()
        assert event.actor == learner.pseudonym

    # Applying twice, or to a cohort that takes no applications, is refused and changes nothing.
    again = client.get(_apply(client, open_cohort["cohort_id"]).headers["Location"]).get_data(as_text=True)
    assert "already in this cohort" in again
    assert _apply(client, open_cohort["private_id"]).status_code == 404
    with app.app_context():
        assert db.session.execute(select(Enrolment.id)).scalars().all() == [enrolment.id]


def test_signed_out_visitor_is_sent_to_sign_in(client, open_cohort):
    assert client.get("/catalogue/apply").status_code in (302, 401)


def test_full_cohort_waitlists_and_manager_selects_enrols_and_withdraws(app, client, make_user, open_cohort):
    cohort_id = open_cohort["cohort_id"]
    first, second, third = (make_user(name, first_name=name.title()) for name in ("ana", "boris", "cvetan"))
    manager = make_user("pm", roles=[("programme_manager", "programme", open_cohort["programme_id"])])
    for person in (first, second):
        login_as(client, person)
        _apply(client, cohort_id)
        logout(client)

    login_as(client, manager)
    cohort_page = client.get(f"/catalogue/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Ana" in cohort_page and "Boris" in cohort_page and "applied" in cohort_page
    with app.app_context():
        ids = {e.user_id: e.id for e in db.session.execute(select(Enrolment)).scalars()}

    def change(person, status, reason=""):
        token = csrf_token(client, f"/catalogue/cohorts/{cohort_id}")
        client.post(f"/catalogue/enrolments/{ids[person.id]}/status",
                    data={"csrf_token": token, "status": status, "reason": reason})  # fmt: skip

    for person in (first, second):
        change(person, "selected", "Scored 18 of 20")
        change(person, "enrolled")
    logout(client)

    login_as(client, third)
    page = client.get("/catalogue/apply").get_data(as_text=True)
    assert "new applications go on the waiting list" in page
    page = client.get(_apply(client, cohort_id).headers["Location"]).get_data(as_text=True)
    assert "on the waiting list" in page
    logout(client)

    login_as(client, manager)
    change(first, "withdrawn")  # no reason: refused
    with app.app_context():
        assert db.session.get(Enrolment, ids[first.id]).status == "enrolled"
    change(first, "withdrawn", "Found a job")
    with app.app_context():
        statuses = {e.user_id: e.status for e in db.session.execute(select(Enrolment)).scalars()}
        assert statuses == {first.id: "withdrawn", second.id: "enrolled", third.id: "enrolled"}
        assert db.session.get(Enrolment, ids[first.id]).reason == "Found a job"
        assert db.session.get(Cohort, cohort_id).capacity == 2


def test_service_refuses_a_started_cohort(app, make_user, open_cohort):
    with app.app_context():
        person = db.session.get(User, make_user("late").id)
        started = db.session.execute(select(Cohort).where(Cohort.name == "Already running")).scalar_one()
        with pytest.raises(services.CatalogueError):
            services.apply_to_cohort(person, started)
        assert db.session.execute(select(Enrolment)).first() is None


def _withdraw(client, enrolment_id, reason="", back="/"):
    return client.post(f"/catalogue/enrolments/{enrolment_id}/withdraw-application",
                       data={"csrf_token": csrf_token(client, "/"), "reason": reason, "next": back})  # fmt: skip


def test_applicant_withdraws_their_own_application_from_the_dashboard(app, client, make_user, open_cohort):
    learner = make_user("roma2", first_name="Dragana")
    login_as(client, learner)
    _apply(client, open_cohort["cohort_id"])
    with app.app_context():
        enrolment_id = db.session.execute(select(Enrolment.id)).scalar_one()
    assert "Withdraw my application" in client.get("/").get_data(as_text=True)

    assert _withdraw(client, enrolment_id, "x" * 501).status_code == 302  # too long: refused, nothing changes
    page = client.get("/").get_data(as_text=True)
    assert "The reason is too long" in page and "Withdraw my application" in page

    response = _withdraw(client, enrolment_id, "Found a job in Valjevo")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Your application was withdrawn." in page and "withdrawn" in page
    assert "Withdraw my application" not in page
    with app.app_context():
        enrolment = db.session.get(Enrolment, enrolment_id)
        assert (enrolment.status, enrolment.reason) == ("withdrawn", "Found a job in Valjevo")
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "catalogue.enrolment.status_changed")
        ).scalar_one()
        assert event.actor == learner.pseudonym


def test_nobody_withdraws_someone_elses_application_and_enrolled_learners_ask_their_manager(
    app, client, make_user, open_cohort
):
    applicant = make_user("roma3")
    login_as(client, applicant)
    _apply(client, open_cohort["cohort_id"])
    logout(client)
    learner_id = make_user("learner9").id
    with app.app_context():
        application_id = db.session.execute(select(Enrolment.id)).scalar_one()
        admin = db.session.execute(select(User).filter_by(username="admin")).scalar_one()
        _p, _c, cohort = build_course(admin, code="ENR")
        enrolled_id = services.enrol(db.session.get(User, learner_id), cohort, admin).id
    login_as(client, "learner9")
    assert _withdraw(client, application_id).status_code == 403
    assert "Withdraw my application" not in client.get("/").get_data(as_text=True)
    _withdraw(client, enrolled_id)
    assert "To leave a course you are enrolled in, ask your programme manager." in client.get("/").get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(Enrolment, application_id).status == "applied"
        assert db.session.get(Enrolment, enrolled_id).status == "enrolled"


def test_applicant_withdraws_from_the_apply_page_and_returns_to_it(app, client, make_user, open_cohort):
    login_as(client, make_user("roma4"))
    _apply(client, open_cohort["cohort_id"])
    with app.app_context():
        enrolment_id = db.session.execute(select(Enrolment.id)).scalar_one()
    assert "Withdraw my application" in client.get("/catalogue/apply").get_data(as_text=True)
    response = _withdraw(client, enrolment_id, back="/catalogue/apply")
    assert response.headers["Location"] == "/catalogue/apply"
    page = client.get("/catalogue/apply").get_data(as_text=True)
    assert "Your application was withdrawn." in page and "Withdraw my application" not in page
    assert "Withdrawn by the applicant." in page  # the reason recorded when none was given
    assert _withdraw(client, enrolment_id, back="https://example.org/").headers["Location"] == "/"  # never elsewhere
