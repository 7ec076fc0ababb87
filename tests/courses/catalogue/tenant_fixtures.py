"""Organisation B's catalogue objects for the tenant matrix and the signed-out route test."""

from sqlalchemy import select

from courses.catalogue import selection, services
from courses.catalogue.models import Cohort, Lesson
from lms.extensions import db
from lms.models import User
from tests.courses.catalogue.factories import build_course
from tests.tenant_fixtures import tenant_fixture


def _b_course(world):
    """B's programme (id ``world.b.programme_id``), course and cohort (id ``world.b.cohort_id``), built once."""
    if "catalogue:b" not in world.values:
        admin = db.session.get(User, world.administrator.id)
        programme, course, cohort = build_course(admin, programme_id=world.b.programme_id,
                                                 cohort_id=world.b.cohort_id, code="BRAVO-1", sessions=1)  # fmt: skip
        learner = db.session.get(User, world.b.people["learner"].id)
        enrolment = services.enrol(learner, cohort, admin, sponsor=world.b.organisation)
        lesson = db.session.execute(select(Lesson).where(Lesson.course_id == course.id)).scalars().first()
        attachment = services.add_attachment(lesson, "bravo-handout.pdf", b"%PDF-1.4 bravo", admin)
        world.values["catalogue:b"] = {
            "programme": programme.id, "course": course.id, "cohort": cohort.id, "lesson": lesson.id,
            "module": lesson.module_id, "enrolment": enrolment.id, "attachment": attachment.id,
        }  # fmt: skip
    return world.values["catalogue:b"]


@tenant_fixture("programme_id")
def programme_of_b(world):
    """B's programme."""
    return _b_course(world)["programme"]


@tenant_fixture("course_id")
def course_of_b(world):
    """B's course."""
    return _b_course(world)["course"]


@tenant_fixture("cohort_id")
def cohort_of_b(world):
    """B's cohort, where B's trainer and learner hold roles."""
    return _b_course(world)["cohort"]


@tenant_fixture("module_id")
def module_of_b(world):
    """A module of B's course."""
    return _b_course(world)["module"]


@tenant_fixture("lesson_id")
def lesson_of_b(world):
    """A lesson of B's course."""
    return _b_course(world)["lesson"]


@tenant_fixture("attachment_id")
def attachment_of_b(world):
    """A file of B's lesson."""
    return _b_course(world)["attachment"]


@tenant_fixture("enrolment_id")
def enrolment_of_b(world):
    """B's learner's enrolment, sponsored by B."""
    return _b_course(world)["enrolment"]


@tenant_fixture("catalogue.version_publish:language")
def language_of_b_lesson(world):
    """The language of B's lesson's text."""
    _b_course(world)
    return "en"


@tenant_fixture("criterion_id")
def selection_criterion_of_b(world):
    """A published selection criterion of B's cohort."""
    _b_course(world)
    admin = db.session.get(User, world.administrator.id)
    cohort = db.session.get(Cohort, world.b.cohort_id)
    criterion = selection.add_criterion(cohort, {"name": "Bravo motivation interview", "max_score": 10,
                                                 "weight": 2}, admin)  # fmt: skip
    selection.publish(cohort, admin)
    world.b.secrets.add(criterion.name)
    return criterion.id
