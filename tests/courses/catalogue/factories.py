"""Small builders for catalogue tests: a programme with a course, modules, lessons, a cohort and sessions."""

from datetime import date, datetime, timedelta

from courses.catalogue import services
from courses.catalogue.models import Cohort, Course, Programme
from lms.extensions import db
from lms.models import User


def build_course(
    by: User,
    *,
    programme_id: int | None = None,
    cohort_id: int | None = None,
    modules: int = 1,
    lessons: int = 1,
    sessions: int = 0,
    capacity: int | None = None,
    code: str = "P-1",
    start: date | None = None,
    end: date | None = None,
    self_application: bool = False,
):
    """A programme, a course with ``modules`` × ``lessons``, a cohort and ``sessions`` future sessions."""
    today = date.today()
    programme = Programme(
        id=programme_id, code=code, name=f"Programme {code}", time_zone="Europe/Skopje", languages="en mk",
        start_date=today - timedelta(days=30), end_date=today + timedelta(days=300),
    )  # fmt: skip
    db.session.add(programme)
    db.session.commit()
    course = services.save_course(
        programme,
        {"code": "C-1", "title": f"Course of {code}", "kind": "mentor_training", "default_language": "en",
         "self_application": self_application},
        by,
    )  # fmt: skip
    for m in range(modules):
        module = services.add_module(course, f"Module {m + 1}", "", by)
        for n in range(lessons):
            services.add_lesson(module, language="en", title=f"Lesson {m + 1}.{n + 1}",
                                body_html=f"<p>Text of lesson {m + 1}.{n + 1}</p>", by=by, estimated_minutes=10)  # fmt: skip
    cohort = Cohort(id=cohort_id, course_id=course.id, programme_id=programme.id, name=f"Cohort of {code}",
                    city="Skopje", language="en", capacity=capacity, status="open",
                    start_date=start or today - timedelta(days=7), end_date=end or today + timedelta(days=60))  # fmt: skip
    db.session.add(cohort)
    db.session.commit()
    for s in range(sessions):
        day = datetime.combine(today + timedelta(days=s + 1), datetime.min.time())
        services.schedule_session(cohort, starts_local=day.replace(hour=9), ends_local=day.replace(hour=13), by=by,
                                  place=f"Room {s + 1}")  # fmt: skip
    return db.session.get(Programme, programme.id), db.session.get(Course, course.id), db.session.get(Cohort, cohort.id)
