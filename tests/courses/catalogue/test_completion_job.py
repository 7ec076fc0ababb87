"""The nightly completion job: enrolled learners of ended cohorts complete unless some plugin's rule blocks them."""

from datetime import date, timedelta

from sqlalchemy import select

from courses.catalogue import services
from courses.catalogue.models import Enrolment, Lesson, Session
from lms.extensions import db
from lms.models import AuditEvent, User
from lms.plugins import flat, hook, hookimpl
from tests.courses.catalogue.factories import build_course


class PracticeHours:
    """A stand-in for the attendance plugin: the people in ``short`` lack practice hours."""

    def __init__(self):
        self.short = set()

    @hookimpl
    def lms_certificate_blockers(self, enrolment):
        """Blocks the people who lack hours."""
        return [("practice_hours", {"have": 31, "need": 40})] if enrolment.user_id in self.short else []


def _job():
    jobs = {job_id: (function, trigger) for job_id, function, trigger in flat(hook().lms_scheduled_jobs())}
    function, trigger = jobs["catalogue.complete_enrolments"]
    assert trigger == {"trigger": "cron", "hour": 3}
    return function


def test_daily_job_completes_unblocked_learners_of_ended_cohorts_and_audits_each(app, make_user):
    today = date.today()
    blocker = PracticeHours()
    app.extensions["lms_plugins"].register(blocker, name="test-practice-hours")
    made = {name: make_user(name) for name in ("ana", "boris", "cvetan", "dejan", "ema")}
    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        db.session.commit()
        _p, _c, ended = build_course(admin, code="END", start=today - timedelta(days=60), end=today - timedelta(days=1),
                                     sessions=0)  # fmt: skip
        _p, _c, running = build_course(
            admin, code="RUN", start=today - timedelta(days=5), end=today + timedelta(days=30)
        )
        people = {name: db.session.get(User, made[name].id) for name in made}
        enrolments = {
            name: services.enrol(people[name], ended, admin).id for name in ("ana", "boris", "cvetan", "dejan")
        }
        enrolments["ema"] = services.enrol(people["ema"], running, admin).id
        for name in ("ana", "cvetan", "dejan", "ema"):  # boris has not done the required lesson
            course_id = (running if name == "ema" else ended).course_id
            lesson = db.session.execute(select(Lesson).where(Lesson.course_id == course_id)).scalars().first()
            services.mark_done(people[name], lesson)
        services.change_status(db.session.get(Enrolment, enrolments["dejan"]), "withdrawn", admin, "Moved away")
        blocker.short.add(people["cvetan"].id)

        assert _job()() == 1
        statuses = {name: db.session.get(Enrolment, eid).status for name, eid in enrolments.items()}
        assert statuses == {"ana": "completed", "boris": "enrolled", "cvetan": "enrolled", "dejan": "withdrawn",
                            "ema": "enrolled"}  # fmt: skip
        events = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "catalogue.enrolment.completed")
        ).scalars().all()  # fmt: skip
        assert [(e.object_id, e.subject, e.actor) for e in events] == [
            (str(enrolments["ana"]), people["ana"].pseudonym, "")]  # fmt: skip
        assert services.blockers(db.session.get(Enrolment, enrolments["cvetan"])) == [
            ("practice_hours", {"have": 31, "need": 40})]  # fmt: skip

        assert _job()() == 0  # nothing new the next night

        # Cvetan makes up the hours in a late session; its end completes him without waiting for the night.
        blocker.short.clear()
        session = Session(cohort_id=ended.id, starts_at=services.utcnow() - timedelta(hours=3),
                          ends_at=services.utcnow() - timedelta(hours=1), place="Room 1")  # fmt: skip
        db.session.add(session)
        db.session.commit()
        hook().lms_session_ended(session=session)
        assert db.session.get(Enrolment, enrolments["cvetan"]).status == "completed"
        assert db.session.get(Enrolment, enrolments["boris"]).status == "enrolled"
        completed = db.session.execute(
            select(AuditEvent.object_id).where(AuditEvent.action == "catalogue.enrolment.completed")
        ).scalars().all()  # fmt: skip
        assert completed == [str(enrolments["ana"]), str(enrolments["cvetan"])]


def test_a_failing_blocker_does_not_stop_the_others(app, make_user):
    class Flaky:
        """Raises for one person."""

        def __init__(self):
            self.broken = None

        @hookimpl
        def lms_certificate_blockers(self, enrolment):
            """Fails for the broken person."""
            if enrolment.user_id == self.broken:
                raise RuntimeError("blocker failed")
            return []

    flaky = Flaky()
    app.extensions["lms_plugins"].register(flaky, name="test-flaky")
    made = [make_user(name) for name in ("first", "second")]
    today = date.today()
    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        db.session.commit()
        _p, _c, ended = build_course(admin, lessons=0, start=today - timedelta(days=30), end=today - timedelta(days=2))
        first, second = (db.session.get(User, person.id) for person in made)
        ids = [services.enrol(person, ended, admin).id for person in (first, second)]
        flaky.broken = first.id
        assert _job()() == 1
        assert [db.session.get(Enrolment, i).status for i in ids] == ["enrolled", "completed"]
