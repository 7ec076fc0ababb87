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


# --- arranging and removing content ------------------------------------------------------------------


def _lessons(app, course_id):
    """Lesson titles in the order learners meet them."""
    from courses.catalogue.models import Lesson, LessonVersion, Module

    with app.app_context():
        return db.session.execute(
            select(LessonVersion.title).join(Lesson, Lesson.id == LessonVersion.lesson_id)
            .join(Module, Module.id == Lesson.module_id).where(Lesson.course_id == course_id)
            .order_by(Module.position, Lesson.position)
        ).scalars().all()  # fmt: skip


def _ids(app, course_id):
    from courses.catalogue.models import Lesson, LessonVersion, Module

    with app.app_context():
        modules = {m.title: m.id for m in db.session.execute(select(Module)).scalars()}
        lessons = dict(db.session.execute(select(LessonVersion.title, LessonVersion.lesson_id)).all())
        assert all(lesson.course_id == course_id for lesson in db.session.execute(select(Lesson)).scalars())
        return modules, lessons


def test_manager_moves_modules_and_lessons_up_and_down(app, client, built):
    course_id = built["course_id"]
    modules, lessons = _ids(app, course_id)
    login_as(client, built["manager"])
    assert "Arrange content" in client.get(f"/catalogue/courses/{course_id}").get_data(as_text=True)
    arrange = f"/catalogue/courses/{course_id}/arrange"
    page = client.get(arrange).get_data(as_text=True)
    assert "Move down" in page and "Lesson 2.2" in page

    _post(client, arrange, {"direction": "up"}, action=f"/catalogue/modules/{modules['Module 2']}/move")
    _post(client, arrange, {"direction": "up"}, action=f"/catalogue/lessons/{lessons['Lesson 1.2']}/move")
    assert _lessons(app, course_id) == ["Lesson 2.1", "Lesson 2.2", "Lesson 1.2", "Lesson 1.1"]
    _post(client, arrange, {"direction": "up"}, action=f"/catalogue/modules/{modules['Module 2']}/move")  # first
    response = _post(
        client, arrange, {"direction": "sideways"}, action=f"/catalogue/lessons/{lessons['Lesson 2.1']}/move"
    )
    assert "Choose up or down" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _lessons(app, course_id) == ["Lesson 2.1", "Lesson 2.2", "Lesson 1.2", "Lesson 1.1"]
    course_page = client.get(f"/catalogue/courses/{course_id}").get_data(as_text=True)
    assert course_page.index("Module 2") < course_page.index("Module 1")
    with app.app_context():
        moved = db.session.execute(select(AuditEvent.action).where(AuditEvent.action.like("%.moved"))).scalars().all()
        assert sorted(moved) == ["catalogue.lesson.moved", "catalogue.module.moved"]


def test_lesson_nobody_worked_on_is_deleted_after_confirmation_module_when_empty(app, client, built):
    course_id = built["course_id"]
    modules, lessons = _ids(app, course_id)
    login_as(client, built["manager"])
    confirm = f"/catalogue/lessons/{lessons['Lesson 2.1']}/delete"
    page = client.get(confirm).get_data(as_text=True)
    assert "Delete Lesson 2.1?" in page and "cannot be undone" in page
    module_confirm = f"/catalogue/modules/{modules['Module 2']}/delete"
    refused = client.get(_post(client, module_confirm, {}).headers["Location"]).get_data(as_text=True)
    assert "still has lessons" in refused
    for title in ("Lesson 2.1", "Lesson 2.2"):
        path = f"/catalogue/lessons/{lessons[title]}/delete"
        assert _post(client, path, {}).status_code == 302
    assert _lessons(app, course_id) == ["Lesson 1.1", "Lesson 1.2"]
    assert "The module was deleted" in client.get(_post(client, module_confirm, {}).headers["Location"]).get_data(
        as_text=True
    )
    assert "Module 2" not in client.get(f"/catalogue/courses/{course_id}").get_data(as_text=True)
    with app.app_context():
        deleted = db.session.execute(select(AuditEvent.action).where(AuditEvent.action.like("%.deleted"))).scalars()
        assert sorted(deleted) == ["catalogue.lesson.deleted"] * 2 + ["catalogue.module.deleted"]


def test_module_with_sessions_is_kept(app, client, built):
    from datetime import datetime, timedelta

    modules, _lessons_ = _ids(app, built["course_id"])
    with app.app_context():
        from courses.catalogue.models import Lesson, Module

        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        module = db.session.get(Module, modules["Module 2"])
        for lesson in db.session.execute(select(Lesson).where(Lesson.module_id == module.id)).scalars().all():
            services.delete_lesson(lesson, admin)
        start = datetime.combine(datetime.now().date() + timedelta(days=3), datetime.min.time()).replace(hour=9)
        services.schedule_session(db.session.get(Cohort, built["cohort_id"]), starts_local=start,
                                  ends_local=start + timedelta(hours=3), by=admin, place="Room 4", module=module)  # fmt: skip
    login_as(client, built["manager"])
    path = f"/catalogue/modules/{modules['Module 2']}/delete"
    assert "Sessions are scheduled" in client.get(_post(client, path, {}).headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Module, modules["Module 2"]) is not None


def test_lesson_with_progress_is_retired_not_deleted_and_languages_unpublish(app, client, make_user, built):
    from courses.catalogue.models import Lesson, LessonVersion

    course_id = built["course_id"]
    _modules, lessons = _ids(app, course_id)
    learner = make_user("learner1")
    with app.app_context():
        services.enrol(db.session.get(User, learner.id), db.session.get(Cohort, built["cohort_id"]), None)
        services.mark_done(db.session.get(User, learner.id), db.session.get(Lesson, lessons["Lesson 1.1"]))
    first, second = lessons["Lesson 1.1"], lessons["Lesson 1.2"]

    login_as(client, built["manager"])
    page = client.get(f"/catalogue/lessons/{first}/delete").get_data(as_text=True)
    assert "1 learner has already worked on this lesson" in page and "Retire the lesson" in page
    refused = _post(client, f"/catalogue/lessons/{first}/delete", {})  # a forged delete is still refused
    assert "cannot be deleted" in client.get(refused.headers["Location"]).get_data(as_text=True)
    _post(client, f"/catalogue/lessons/{first}/delete", {}, action=f"/catalogue/lessons/{first}/retire")
    arrange = f"/catalogue/courses/{course_id}/arrange"
    _post(client, arrange, {"published": "0"}, action=f"/catalogue/lessons/{second}/versions/en/publish")
    page = client.get(arrange).get_data(as_text=True)
    assert "Optional" in page and "Draft" in page and "Published" in page  # module 2's lessons stay published
    logout(client)

    login_as(client, learner)
    assert client.get(f"/catalogue/lessons/{first}").status_code == 404
    assert client.get(f"/catalogue/lessons/{second}").status_code == 404
    with app.app_context():
        enrolment = db.session.execute(select(Enrolment)).scalar_one()
        # The retired lesson is optional and the unpublished one a draft: neither is required any more.
        assert services.lessons_incomplete(enrolment) == [("lessons_incomplete", {"done": 0, "required": 2})]
        assert db.session.get(Lesson, first) is not None
        assert (
            db.session.execute(select(LessonVersion.published).where(LessonVersion.lesson_id == first)).scalar()
            is False
        )
    logout(client)

    login_as(client, built["manager"])
    _post(client, arrange, {"published": "1"}, action=f"/catalogue/lessons/{second}/versions/en/publish")
    logout(client)
    login_as(client, learner)
    assert client.get(f"/catalogue/lessons/{second}").status_code == 200


def test_trainers_cannot_arrange_or_delete_content(app, client, make_user, built):
    _modules, lessons = _ids(app, built["course_id"])
    trainer = make_user("trainer1", roles=[("trainer", "cohort", built["cohort_id"])])
    login_as(client, trainer)
    assert client.get(f"/catalogue/courses/{built['course_id']}/arrange").status_code == 403
    assert client.get(f"/catalogue/lessons/{lessons['Lesson 1.1']}/delete").status_code == 403
    token = csrf_token(client, "/")
    assert (
        client.post(f"/catalogue/lessons/{lessons['Lesson 1.1']}/retire", data={"csrf_token": token}).status_code == 403
    )


# --- sensitive information ---------------------------------------------------------------------------


@pytest.fixture
def applicant(app, make_user, built):
    """An applicant sponsored by an organisation, with the people around them who must not see sensitive data."""
    from lms.models import Organisation

    with app.app_context():
        organisation = Organisation(name="Roma Centre Valjevo", kind="ngo")
        db.session.add(organisation)
        db.session.commit()
        org_id = organisation.id
    learner = make_user("dragana", first_name="Dragana", roles=[("member", "organisation", org_id)])
    with app.app_context():
        enrolment = services.enrol(db.session.get(User, learner.id), db.session.get(Cohort, built["cohort_id"]),
                                   None, sponsor=db.session.get(Organisation, org_id), apply_only=True)  # fmt: skip
        enrolment_id = enrolment.id
        other = build_course(db.session.execute(select(User).where(User.username == "admin")).scalar_one(),
                             code="OTHER")[0].id  # fmt: skip
    onlookers = {
        "trainer": make_user("trainer1", roles=[("trainer", "cohort", built["cohort_id"])]),
        "organisation manager": make_user("orgmgr", roles=[("organisation_manager", "organisation", org_id)]),
        "auditor": make_user("auditor1", roles=[("auditor", "programme", built["programme_id"])]),
        "learner": learner,
        "other programme's manager": make_user("pm2", roles=[("programme_manager", "programme", other)]),
    }
    return {"enrolment_id": enrolment_id, "org_id": org_id, "onlookers": onlookers}


def test_sensitive_information_is_recorded_only_with_consent_and_audited_as_digests(app, client, built, applicant):
    from lms import audit
    from lms.models import AuditPayload

    page_path = f"/catalogue/enrolments/{applicant['enrolment_id']}/sensitive"
    record = page_path + "/record"
    login_as(client, built["manager"])
    assert "Sensitive information" in client.get(f"/catalogue/cohorts/{built['cohort_id']}").get_data(as_text=True)
    fields = {"kind": "ethnicity", "value": "Roma", "consent_text_version": "consent form v2", "given_at": "2026-01-15"}
    refused = _post(client, page_path, fields, action=record).get_data(as_text=True)  # no consent ticked
    assert "only be recorded with the person" in refused
    refused = _post(client, page_path, {**fields, "consent_given": "y", "given_at": "2999-01-01"}, action=record)
    assert "given in the future" in refused.get_data(as_text=True)
    missing = _post(client, page_path, {**fields, "consent_given": "y", "consent_text_version": ""}, action=record)
    assert "This field is required" in missing.get_data(as_text=True)
    with app.app_context():
        from courses.catalogue.models import ConsentRecord, SensitiveAttribute

        assert db.session.execute(select(SensitiveAttribute)).first() is None
        assert db.session.execute(select(ConsentRecord)).first() is None

    response = _post(client, page_path, {**fields, "consent_given": "y"}, action=record)
    assert response.status_code == 302
    page = client.get(page_path).get_data(as_text=True)
    assert "Roma" in page and "consent form v2" in page and "Ethnicity" in page and "Pm Test" in page
    assert "Jan" in page and "2026" in page  # the consent's date
    with app.app_context():
        payloads = " ".join(f"{p.before} {p.after}" for p in db.session.execute(select(AuditPayload)).scalars())
        assert "Roma" not in payloads and audit.confidential("Roma") in payloads
        consent = db.session.execute(select(ConsentRecord)).scalar_one()
        assert (consent.text_version, consent.given_at.date().isoformat(), consent.recorded_by_id) == (
            "consent form v2", "2026-01-15", built["manager"].id)  # fmt: skip


def test_only_programme_managers_see_sensitive_information(app, client, built, applicant):
    with app.app_context():
        admin = db.session.execute(select(User).where(User.username == "pm")).scalar_one()
        enrolment = db.session.get(Enrolment, applicant["enrolment_id"])
        services.record_sensitive(enrolment, "health", "Diabetes type 1", consent_text_version="v1",
                                  consent_given=True, by=admin)  # fmt: skip
    page_path = f"/catalogue/enrolments/{applicant['enrolment_id']}/sensitive"
    pages = [page_path, f"/catalogue/cohorts/{built['cohort_id']}", f"/catalogue/organisations/{applicant['org_id']}/staff",
             "/", "/catalogue/apply"]  # fmt: skip
    for label, person in applicant["onlookers"].items():
        login_as(client, person)
        assert client.get(page_path).status_code == 403, label
        token = csrf_token(client, "/")
        posted = client.post(page_path + "/record", data={"csrf_token": token, "kind": "health", "value": "x",
                                                          "consent_given": "y", "consent_text_version": "v1",
                                                          "given_at": "2026-01-01"})  # fmt: skip
        assert posted.status_code == 403, label
        for path in pages:
            assert "Diabetes" not in client.get(path).get_data(as_text=True), (label, path)
        logout(client)
    with app.app_context():
        from courses.catalogue.models import SensitiveAttribute

        assert len(db.session.execute(select(SensitiveAttribute)).all()) == 1


# --- sign-in codes from trainers ---------------------------------------------------------------------


def test_trainer_issues_sign_in_codes_for_learners_of_own_cohort_only(app, client, make_user, built):
    import re

    from lms.auth import services as auth

    with app.app_context():
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        other_cohort = build_course(admin, code="OTHER")[2].id
    trainer = make_user("trainer1", roles=[("trainer", "cohort", built["cohort_id"])])
    mine = make_user("mine", first_name="Mirjana")
    theirs = make_user("theirs", first_name="Teodora")
    colleague = make_user("colleague", first_name="Kosta", roles=[("trainer", "cohort", other_cohort)])
    with app.app_context():
        admin = db.session.execute(select(User).where(User.username == "admin")).scalar_one()
        for person, cohort_id in ((mine, built["cohort_id"]), (theirs, other_cohort), (colleague, built["cohort_id"])):
            services.enrol(db.session.get(User, person.id), db.session.get(Cohort, cohort_id), admin)
        me = db.session.get(User, trainer.id)
        assert auth.may_issue_code_for(me, db.session.get(User, mine.id))
        assert not auth.may_issue_code_for(me, db.session.get(User, theirs.id))
        with pytest.raises(auth.AuthError):
            auth.issue_signin_codes([db.session.get(User, theirs.id)], by=me)
        # A learner of the cohort who trains elsewhere holds more than a learner's role: no code for them.
        with pytest.raises(auth.AuthError):
            auth.issue_signin_codes([db.session.get(User, colleague.id)], by=me)

    login_as(client, trainer)
    assert 'href="/auth/codes"' in client.get("/").get_data(as_text=True)
    page = client.get("/auth/codes").get_data(as_text=True)
    assert "Mirjana" in page and "Teodora" not in page and "Kosta" not in page
    token = csrf_token(client, "/auth/codes")
    refused = client.post("/auth/codes/sheet", data={"csrf_token": token, "people": [theirs.id]})
    assert "Teodora" not in refused.get_data(as_text=True)
    sheet = client.post("/auth/codes/sheet", data={"csrf_token": token, "people": [mine.id]}).get_data(as_text=True)
    code = re.search(r'class="signin-code">([A-Z0-9-]+)<', sheet).group(1)
    logout(client)

    login_as(client, theirs)
    assert client.get("/auth/codes").status_code == 403  # a learner issues no codes
    logout(client)
    response = client.post("/auth/code", data={"csrf_token": csrf_token(client, "/auth/code"), "code": code})
    assert response.status_code == 302
    assert "Mirjana" in client.get("/").get_data(as_text=True)
    with app.app_context():
        issued = db.session.execute(select(AuditEvent).where(AuditEvent.action == "auth.signin_code_issued")).scalars()
        assert [(e.actor, e.subject) for e in issued] == [(trainer.pseudonym, mine.pseudonym)]
