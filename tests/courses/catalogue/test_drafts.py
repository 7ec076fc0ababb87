"""Draft lessons (no published version): learners never meet them, managers still do, and they count for nothing."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from courses.catalogue import services
from courses.catalogue.models import Enrolment, Lesson, LessonVersion
from lms.extensions import db
from lms.models import User
from tests.courses.catalogue.factories import build_course
from tests.helpers import login_as


def _unpublish(lesson_id: int, language: str = "en") -> None:
    """Unpublish one version through the service, as the arrange page does (call inside an app context)."""
    admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
    version = db.session.execute(
        select(LessonVersion).where(LessonVersion.lesson_id == lesson_id, LessonVersion.language == language)
    ).scalar_one()
    services.set_version_published(version, False, admin)


@pytest.fixture
def course(app, make_user):
    """A course of one module × 3 lessons (titled "Lesson 1.1" to "Lesson 1.3"), an enrolled learner and the
    programme manager; every lesson is published until a test unpublishes one."""
    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        learner = make_user("learner", first_name="Fatime")
        db.session.commit()
        programme, course, cohort = build_course(admin, lessons=3)
        services.enrol(db.session.get(User, learner.id), cohort, admin)
        lessons = db.session.execute(select(Lesson.id).order_by(Lesson.position)).scalars().all()
        ids = {"programme_id": programme.id, "course_id": course.id, "lessons": lessons, "learner": learner}
    ids["manager"] = make_user("pm", roles=[("programme_manager", "programme", ids["programme_id"])])
    return ids


def test_learner_course_page_leaves_out_drafts_and_counts_published_lessons(app, client, course):
    first, second, _third = course["lessons"]
    with app.app_context():
        _unpublish(second)
        # A draft translation of a published lesson must not lend it its title either.
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        services.save_lesson_version(db.session.get(Lesson, first), "mk", "Нацрт наслов", "<p>Нацрт</p>", False, admin)
        db.session.get(User, course["learner"].id).locale = "mk"
        db.session.commit()
    login_as(client, course["learner"])
    page = client.get(f"/catalogue/courses/{course['course_id']}").get_data(as_text=True)
    assert "Lesson 1.2" not in page and f"/catalogue/lessons/{second}" not in page
    assert "Нацрт наслов" not in page and "Lesson 1.1" in page and "Lesson 1.3" in page
    assert 'max="2"' in page  # the progress bar: two lessons to do, not three


def test_manager_course_page_still_lists_a_draft_to_edit_it(app, client, course):
    second = course["lessons"][1]
    with app.app_context():
        _unpublish(second)
    login_as(client, course["manager"])
    page = client.get(f"/catalogue/courses/{course['course_id']}").get_data(as_text=True)
    assert "Lesson 1.2" in page and f"/catalogue/lessons/{second}/edit" in page
    assert client.get(f"/catalogue/lessons/{second}").status_code == 200


def test_dashboard_next_lesson_is_never_a_draft_and_progress_leaves_drafts_out(app, client, course):
    first, second, third = course["lessons"]
    login_as(client, course["learner"])
    client.get(f"/catalogue/lessons/{third}")  # the learner stopped here, so the dashboard would resume it
    with app.app_context():
        _unpublish(first)  # first in course order
        _unpublish(third)  # viewed last
    dashboard = client.get("/").get_data(as_text=True)
    assert f'href="/catalogue/lessons/{second}"' in dashboard and "Lesson 1.2" in dashboard
    assert (
        f'href="/catalogue/lessons/{first}"' not in dashboard and f'href="/catalogue/lessons/{third}"' not in dashboard
    )
    assert "Continue" not in dashboard
    assert "Lessons done: 0 of 1" in dashboard


def test_a_required_draft_does_not_block_completion_but_a_required_published_lesson_does(app, make_user):
    today = date.today()
    admin_id, learner_id = make_user("admin", roles=[("administrator", "site", None)]).id, make_user("learner").id
    with app.app_context():
        admin, learner = db.session.get(User, admin_id), db.session.get(User, learner_id)
        _programme, _course, cohort = build_course(admin, lessons=2, start=today - timedelta(days=30),
                                                   end=today - timedelta(days=1))  # fmt: skip
        enrolment = services.enrol(learner, cohort, admin)
        first, second = db.session.execute(select(Lesson).order_by(Lesson.position)).scalars().all()
        assert first.required and second.required
        _unpublish(second.id)
        # The published one still blocks until it is done.
        assert services.lessons_incomplete(enrolment) == [("lessons_incomplete", {"done": 0, "required": 1})]
        assert not services.complete_if_ready(enrolment)
        services.mark_done(learner, first)
        assert services.lessons_incomplete(enrolment) == []
        assert services.complete_if_ready(enrolment)
        assert db.session.get(Enrolment, enrolment.id).status == "completed"


def test_lesson_page_previous_and_next_skip_a_draft_for_a_learner(app, client, course):
    first, second, third = course["lessons"]
    with app.app_context():
        _unpublish(second)
    login_as(client, course["learner"])
    page = client.get(f"/catalogue/lessons/{first}").get_data(as_text=True)
    assert f'rel="next" href="/catalogue/lessons/{third}"' in page and f"/catalogue/lessons/{second}" not in page
    assert "Lesson 1 of 2" in page
    page = client.get(f"/catalogue/lessons/{third}").get_data(as_text=True)
    assert f'rel="prev" href="/catalogue/lessons/{first}"' in page and f"/catalogue/lessons/{second}" not in page
    assert client.get(f"/catalogue/lessons/{second}").status_code == 404

    manager = app.test_client()  # who edits the draft still walks through it
    login_as(manager, course["manager"])
    page = manager.get(f"/catalogue/lessons/{first}").get_data(as_text=True)
    assert f'rel="next" href="/catalogue/lessons/{second}"' in page and "Lesson 1.2" in page


def test_a_lesson_published_only_in_another_language_is_listed_and_opens(app, client, course):
    first = course["lessons"][0]
    with app.app_context():
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        services.save_lesson_version(db.session.get(Lesson, first), "mk", "Прва лекција", "<p>Македонски текст</p>",
                                     True, admin)  # fmt: skip
        _unpublish(first)  # English, the learner's and the course's language, is a draft now
    login_as(client, course["learner"])
    page = client.get(f"/catalogue/courses/{course['course_id']}").get_data(as_text=True)
    assert "Прва лекција" in page and "Lesson 1.1" not in page
    response = client.get(f"/catalogue/lessons/{first}")
    assert response.status_code == 200 and "Македонски текст" in response.get_data(as_text=True)
