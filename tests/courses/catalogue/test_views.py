"""Catalogue pages as people use them: building a course, learning, organisation managers, query counts."""

import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from courses.catalogue import services
from courses.catalogue.models import Enrolment, Lesson, Session
from lms.extensions import db
from lms.models import Organisation, User
from tests.courses.catalogue.factories import build_course
from tests.helpers import csrf_token, login_as


def _post(client, form_path, data, action=None):
    return client.post(action or form_path, data={**data, "csrf_token": csrf_token(client, form_path)})


def test_programme_manager_builds_a_course_with_module_lesson_and_session(app, client, make_user):
    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        db.session.commit()
        programme, _course, _cohort = build_course(admin, modules=0, lessons=0, code="MSI")
        programme_id = programme.id
    manager = make_user("pm", roles=[("programme_manager", "programme", programme_id)])
    make_user("trainer1", first_name="Elena")
    login_as(client, manager)

    response = _post(client, f"/catalogue/programmes/{programme_id}/courses/new",
                     {"code": "PE-1", "title": "Pre-employment", "kind": "pre_employment", "default_language": "en",
                      "summary": "CV, interviews"})  # fmt: skip
    assert response.status_code == 302
    course_url = response.headers["Location"]
    response = _post(client, course_url.replace("/courses/", "/courses/") + "/modules/new",
                     {"title": "Writing a CV", "summary": ""})  # fmt: skip
    assert response.status_code == 302
    page = client.get(course_url).get_data(as_text=True)
    assert "Writing a CV" in page
    lesson_new = re.search(r'href="(/catalogue/modules/\d+/lessons/new)"', page).group(1)
    response = _post(client, lesson_new, {
        "language": "en", "title": "Your first CV", "estimated_minutes": "20", "published": "y",
        "body": '<h2>Start</h2><p onclick="steal()">List your work.</p><script>alert(1)</script>',
    })  # fmt: skip
    assert response.status_code == 302
    course_id = int(course_url.rsplit("/", 1)[1])
    response = _post(client, f"/catalogue/courses/{course_id}/cohorts/new",
                     {"name": "Skopje spring", "city": "Skopje", "language": "en", "capacity": "20",
                      "status": "open", "start_date": "2026-03-02", "end_date": "2026-04-30"})  # fmt: skip
    cohort_url = response.headers["Location"]
    response = _post(client, cohort_url + "/sessions/new", {
        "title": "CV workshop", "starts_at": "2026-03-03T09:00", "ends_at": "2026-03-03T13:00", "mode": "in_person",
        "kind": "theory", "place": "Employment centre, room 2", "module": "0",
    })  # fmt: skip
    assert response.status_code == 302
    cohort_page = client.get(cohort_url).get_data(as_text=True)
    assert "2026-03-03 09:00" in cohort_page and "Employment centre, room 2" in cohort_page
    with app.app_context():
        session = db.session.execute(select(Session)).scalar_one()
        assert session.starts_at.hour == 8  # 09:00 in Skopje (UTC+1 in March) stored as UTC
        lesson = db.session.execute(select(Lesson).where(Lesson.course_id == course_id)).scalar_one()
        body = lesson.versions[0].body_html
        assert "<h2>Start</h2>" in body and "onclick" not in body and "script" not in body
    # A bad session is refused with a message and nothing changes.
    response = _post(client, cohort_url + "/sessions/new", {
        "starts_at": "2026-03-04T13:00", "ends_at": "2026-03-04T09:00", "mode": "online", "kind": "theory",
        "module": "0", "meeting_url": "https://meet.example/x",
    })  # fmt: skip
    assert response.status_code == 200 and "must end after it starts" in response.get_data(as_text=True)


@pytest.fixture
def learning(app, make_user):
    """A cohort with two lessons and a session, and an enrolled learner."""
    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        learner = make_user("learner", first_name="Fatime")
        db.session.commit()
        _programme, course, cohort = build_course(admin, lessons=2, sessions=2)
        services.enrol(db.session.get(User, learner.id), cohort, admin)
        lessons = db.session.execute(select(Lesson.id).order_by(Lesson.position)).scalars().all()
        return {"learner": learner, "course_id": course.id, "cohort_id": cohort.id, "lessons": lessons}


def test_learner_reads_lesson_marks_done_and_sees_progress_on_dashboard(client, learning):
    login_as(client, learning["learner"])
    first, second = learning["lessons"]
    dashboard = client.get("/").get_data(as_text=True)
    assert "What next?" in dashboard and "Room 1" in dashboard and "09:00" in dashboard
    assert "Lessons done: 0 of 2" in dashboard and "Hours so far" in dashboard
    page = client.get(f"/catalogue/lessons/{first}").get_data(as_text=True)
    assert "Text of lesson 1.1" in page and f"/catalogue/lessons/{second}" in page
    response = client.post(f"/catalogue/lessons/{first}/done",
                           data={"csrf_token": csrf_token(client, f"/catalogue/lessons/{first}"), "done": "1",
                                 "next": second})  # fmt: skip
    assert response.headers["Location"].endswith(f"/catalogue/lessons/{second}")
    client.get(response.headers["Location"])
    dashboard = client.get("/").get_data(as_text=True)
    assert "Lessons done: 1 of 2" in dashboard
    assert f'href="/catalogue/lessons/{second}"' in dashboard and "Continue" in dashboard  # resume where left


def test_lesson_page_is_under_100_kb_with_its_css(client, learning):
    login_as(client, learning["learner"])
    html = client.get(f"/catalogue/lessons/{learning['lessons'][0]}").get_data()
    css = client.get("/static/css/pathways.css").get_data()
    assert b"<script" not in html
    assert len(html) + len(css) < 100 * 1024


def test_someone_not_enrolled_cannot_open_the_course_or_mark_done(client, learning, make_user):
    login_as(client, make_user("outsider"))
    assert client.get(f"/catalogue/courses/{learning['course_id']}").status_code == 403
    assert client.get(f"/catalogue/lessons/{learning['lessons'][0]}").status_code == 403
    token = csrf_token(client, "/")
    assert (
        client.post(f"/catalogue/lessons/{learning['lessons'][0]}/done", data={"csrf_token": token}).status_code == 404
    )


def test_learner_sees_own_language_else_course_default(app, client, learning):
    with app.app_context():
        lesson = db.session.get(Lesson, learning["lessons"][0])
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        services.save_lesson_version(lesson, "mk", "Прва лекција", "<p>Македонски текст</p>", True, admin)
        db.session.get(User, learning["learner"].id).locale = "mk"
        db.session.commit()
    login_as(client, learning["learner"])
    assert "Македонски текст" in client.get(f"/catalogue/lessons/{learning['lessons'][0]}").get_data(as_text=True)
    assert "Text of lesson 1.2" in client.get(f"/catalogue/lessons/{learning['lessons'][1]}").get_data(as_text=True)


def test_organisation_manager_enrols_own_staff_only(app, client, make_user):
    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        db.session.commit()
        mine, theirs = Organisation(name="Alpha Centre", kind="ngo"), Organisation(name="Bravo Centre", kind="ngo")
        db.session.add_all([mine, theirs])
        db.session.commit()
        mine_id, theirs_id = mine.id, theirs.id
        _programme, _course, cohort = build_course(admin)
        cohort_id = cohort.id
    manager = make_user("orgmgr", roles=[("organisation_manager", "organisation", mine_id)])
    staff = make_user("staff1", first_name="Aleksandar", roles=[("member", "organisation", mine_id)])
    other = make_user("other1", first_name="Biljana", roles=[("member", "organisation", theirs_id)])
    login_as(client, manager)
    page = client.get(f"/catalogue/organisations/{mine_id}/staff").get_data(as_text=True)
    assert "Aleksandar" in page and "Biljana" not in page
    assert client.get(f"/catalogue/organisations/{theirs_id}/staff").status_code == 403
    token = csrf_token(client, f"/catalogue/organisations/{mine_id}/staff")
    refused = client.post(f"/catalogue/organisations/{mine_id}/enrol",
                          data={"csrf_token": token, "learner": other.id, "cohort": cohort_id})  # fmt: skip
    assert refused.status_code == 403
    refused = client.post(f"/catalogue/organisations/{theirs_id}/enrol",
                          data={"csrf_token": token, "learner": other.id, "cohort": cohort_id})  # fmt: skip
    assert refused.status_code == 403
    done = client.post(f"/catalogue/organisations/{mine_id}/enrol",
                       data={"csrf_token": token, "learner": staff.id, "cohort": cohort_id})  # fmt: skip
    assert done.status_code == 302
    with app.app_context():
        enrolments = db.session.execute(select(Enrolment)).scalars().all()
        assert [(e.user_id, e.sponsor_id, e.status) for e in enrolments] == [(staff.id, mine_id, "enrolled")]
    page = client.get(f"/catalogue/organisations/{mine_id}/staff").get_data(as_text=True)
    assert "enrolled" in page and "0 / 1" in page


@contextmanager
def count_queries(app):
    """Count the SQL statements run inside the block."""
    statements = []
    with app.app_context():
        engine = db.engine

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _world(app, make_user, scale):
    """A course of 2×scale modules × 3 lessons, 3×scale sessions and 5×scale learners; the first learner's login."""
    with app.app_context():
        admin = db.session.get(User, make_user(f"admin{scale}", roles=[("administrator", "site", None)]).id)
        people = [make_user(f"learner{scale}_{i}") for i in range(5 * scale)]
        db.session.commit()
        _programme, course, cohort = build_course(admin, modules=2 * scale, lessons=3, sessions=3 * scale,
                                                  code=f"Q{scale}")  # fmt: skip
        for person in people:
            services.enrol(db.session.get(User, person.id), cohort, admin)
        lessons = db.session.execute(select(Lesson).where(Lesson.course_id == course.id)).scalars().all()
        for lesson in lessons[: len(lessons) // 2]:
            services.mark_done(db.session.get(User, people[0].id), lesson)
        return people[0].username, admin.username, course.id, cohort.id


@pytest.mark.parametrize("page", ["dashboard", "course", "cohort"])
def test_pages_run_a_constant_number_of_queries(app, make_user, page, monkeypatch):
    monkeypatch.delitem(app.extensions, "lms_page_cache")  # count a full render, not a page served again
    counts = []
    for scale in (1, 10):
        learner, admin, course_id, cohort_id = _world(app, make_user, scale)
        client = app.test_client()
        login_as(client, admin if page == "cohort" else learner)
        path = {"dashboard": "/", "course": f"/catalogue/courses/{course_id}",
                "cohort": f"/catalogue/cohorts/{cohort_id}"}[page]  # fmt: skip
        assert client.get(path).status_code == 200
        with count_queries(app) as statements:
            response = client.get(path)
        assert response.status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], f"{page}: {counts[0]} queries with small data, {counts[1]} with 10× data"


def test_cohort_page_served_again_shows_changes_and_checks_access(app, client, make_user):
    from lms.admin.services import revoke_membership
    from lms.models import Membership

    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        learner_id = make_user("learner").id
        db.session.commit()
        _programme, _course, cohort = build_course(admin)
        cohort_id = cohort.id
        enrolment = services.enrol(db.session.get(User, learner_id), cohort, admin)
        enrolment_id, admin_id = enrolment.id, admin.id
    make_user("trainer", roles=[("trainer", "cohort", cohort_id)])
    login_as(client, "trainer")
    path = f"/catalogue/cohorts/{cohort_id}"
    assert "moved away" not in client.get(path).get_data(as_text=True)
    with app.app_context():
        services.change_status(db.session.get(Enrolment, enrolment_id), "withdrawn", db.session.get(User, admin_id),
                               reason="moved away")  # fmt: skip
    page = client.get(path).get_data(as_text=True)
    assert "withdrawn" in page and "moved away" in page
    with app.app_context():
        trainer_role = db.session.execute(select(Membership).filter_by(role="trainer")).scalar_one()
        revoke_membership(trainer_role, reason="left the programme")
    assert client.get(path).status_code == 403  # the kept page is never served without the access check


def test_cohort_page_shows_roster_only_to_those_with_a_role(app, client, make_user):
    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        db.session.commit()
        _programme, _course, cohort = build_course(admin)
        cohort_id = cohort.id
    login_as(client, make_user("trainer", roles=[("trainer", "cohort", cohort_id)]))
    assert client.get(f"/catalogue/cohorts/{cohort_id}").status_code == 200
    login_as(app.test_client(), make_user("nobody"))
    nobody = app.test_client()
    login_as(nobody, "nobody")
    assert nobody.get(f"/catalogue/cohorts/{cohort_id}").status_code == 403


def test_dashboard_resumes_the_lesson_opened_last_and_reopening_it_writes_nothing(app, client, learning):
    from lms.models import DataGeneration

    login_as(client, learning["learner"])
    first, second = learning["lessons"]
    for lesson in (first, second, first):
        assert client.get(f"/catalogue/lessons/{lesson}").status_code == 200
    dashboard = client.get("/").get_data(as_text=True)
    assert f'href="/catalogue/lessons/{first}"' in dashboard and "Continue: Lesson 1.1" in dashboard

    def generation():
        with app.app_context():
            return db.session.execute(select(DataGeneration.value)).scalar_one()

    before = generation()
    client.get(f"/catalogue/lessons/{first}")  # read again, or reloaded on a slow connection
    assert generation() == before
    client.get(f"/catalogue/lessons/{second}")
    assert generation() == before + 1
    assert "Continue: Lesson 1.2" in client.get("/").get_data(as_text=True)


def test_cohort_page_lists_sessions_in_the_programmes_zone_with_module_and_trainers(app, client, make_user):
    from courses.catalogue.models import Module

    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        trainer_id = make_user("trainer", first_name="Elena", last_name="Petrova").id
        db.session.commit()
        _programme, course, cohort = build_course(admin)
        module = db.session.execute(select(Module).where(Module.course_id == course.id)).scalar_one()
        services.add_trainer(cohort, db.session.get(User, trainer_id), admin)
        day = datetime.combine(date.today() + timedelta(days=3), datetime.min.time())
        services.schedule_session(cohort, starts_local=day.replace(hour=9), ends_local=day.replace(hour=12, minute=30),
                                  by=admin, place="Centre for Social Work, room 4", module=module, kind="practice",
                                  trainers=[db.session.get(User, trainer_id)])  # fmt: skip
        cohort_id = cohort.id
    login_as(client, "trainer")
    page = client.get(f"/catalogue/cohorts/{cohort_id}").get_data(as_text=True)
    row = re.search(r"<tr><th scope=\"row\">[^<]*09:00–12:30</th>.*?</tr>", page, re.S).group(0)  # Skopje time, not UTC
    assert (
        "Module 1" in row and "Practice" in row and "Centre for Social Work, room 4" in row and "Elena Petrova" in row
    )
