"""The catalogue's part of ``flask lms demo``: the programmes of shared/context with courses, cohorts and people.

Curricula come from ``demo_content/*.json``. Dates of cohorts and sessions are relative to today so the
dashboards always have something coming up. Idempotent: a programme whose code exists is left as it is
(its grants are still listed). The 300 NOVA learners are written in bulk with one password hash.
"""

import json
import random
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from lms import audit
from lms.auth.passwords import check_password, hash_password
from lms.database import utcnow
from lms.extensions import db
from lms.models import Membership, User

from .models import (
    Cohort,
    Course,
    Enrolment,
    EnrolmentEvent,
    Lesson,
    LessonProgress,
    LessonVersion,
    Module,
    Programme,
    SelectionCriterion,
    SelectionDecision,
    SelectionPublication,
    SelectionScore,
    Session,
)
from .services import sanitise_html, to_utc

CONTENT = Path(__file__).parent / "demo_content"

PROGRAMMES = {
    "IPA-HRD-MK-2015-SI": {
        "name": "Promoting Active Inclusion of Disadvantaged Persons Excluded from the Labour Market",
        "funder": "EU – IPA, OP Human Resource Development 2007–2013", "region": "North Macedonia",
        "country": "MK", "time_zone": "Europe/Skopje", "start_date": date(2015, 12, 14),
        "end_date": date(2017, 8, 14), "languages": "mk sq en",
        "targets": {"mentors_trained": 60, "participants_pre_employment": 300, "work_placements": 100},
        "partners": ("esa_skopje", "csw_skopje", "cair"), "manager": "pm.mk",
    },
    "EaSI-NOVA-RS": {
        "name": "NOVA – New partnerships and opportunities for the inclusion of vulnerable groups",
        "funder": "EU – EaSI", "region": "Serbia (Belgrade, Niš, Novi Sad)", "country": "RS",
        "time_zone": "Europe/Belgrade", "start_date": date(2021, 12, 1), "end_date": date(2024, 9, 30),
        "languages": "sr sr_Latn en", "targets": {"participants": 300, "cities": 3},
        "partners": ("nes_serbia", "red_cross_rs", "irssv"), "manager": "pm.rs",
    },
    "IPA2016-SKGO-VALJEVO": {
        "name": "Innovative Initiatives for Inclusion (Valjevo)",
        "funder": "EU – IPA 2016, EU Support to Roma Inclusion (SKGO)", "region": "Valjevo, Serbia", "country": "RS",
        "time_zone": "Europe/Belgrade", "start_date": date(2019, 9, 4), "end_date": date(2020, 9, 3),
        "languages": "sr_Latn sr en", "targets": {"internships": 15},
        "partners": ("roma_valjevo", "valjevo_employer"), "manager": "pm.rs",
    },
    "SMIS-300609": {
        "name": "Active measures for increasing the participation of civil society organisations in the labour market",
        "funder": "EU – ESF+, PEO 2021–2027", "region": "București-Ilfov", "country": "RO",
        "time_zone": "Europe/Bucharest", "start_date": date(2024, 4, 1), "end_date": date(2025, 9, 30),
        "languages": "ro en", "targets": {"organisations": 30, "specialists": 70, "campaign_audience": 50000},
        "partners": ("asised", "apulum"), "manager": "pm.ro",
    },
}  # fmt: skip

NOVA_COURSE = {
    "code": "NOVA-VQ-01",
    "title": {"en": "Vocational qualification with mentoring", "sr_Latn": "Stručna kvalifikacija uz mentorstvo"},
    "summary": {"en": "Training for a vocational qualification with individual mentoring and support.",
                "sr_Latn": "Obuka za stručnu kvalifikaciju uz individualno mentorstvo i podršku."},
    "kind": "vocational_qualification", "default_language": "sr_Latn",
    "accreditation": {"authority": "Agencija za kvalifikacije Republike Srbije", "qualification_code": "NOVA-KV",
                      "eqf_level": 3, "theory_hours": 60, "practice_hours": 120},
    "modules": [
        {"title": {"en": "Starting the training", "sr_Latn": "Početak obuke"}, "summary": {}, "lessons": [
            {"title": {"en": "How the training and mentoring work", "sr_Latn": "Kako funkcionišu obuka i mentorstvo"},
             "estimated_minutes": 15,
             "body": {"en": "<p>You will meet your trainer and your mentor. Together you agree on a plan.</p>",
                      "sr_Latn": "<p>Upoznaćete trenera i mentora. Zajedno dogovarate plan.</p>"}},
        ]},
        {"title": {"en": "Safety at work", "sr_Latn": "Bezbednost na radu"}, "summary": {}, "lessons": [
            {"title": {"en": "Your rights and duties", "sr_Latn": "Vaša prava i obaveze"}, "estimated_minutes": 20,
             "body": {"en": "<p>Every worker has the right to safe equipment and training.</p>",
                      "sr_Latn": "<p>Svaki radnik ima pravo na bezbednu opremu i obuku.</p>"}},
        ]},
    ],
}  # fmt: skip

FIRST_NAMES = ["Marko", "Jelena", "Nikola", "Milica", "Stefan", "Ana", "Luka", "Jovana", "Nemanja", "Marija",
               "Dušan", "Ivana", "Miloš", "Tijana", "Đorđe", "Snežana", "Aleksandar", "Dragana", "Vladimir",
               "Ljiljana", "Nenad", "Gordana", "Zoran", "Vesna", "Dejan", "Slađana", "Bojan", "Nataša",
               "Goran", "Svetlana", "Sanja", "Ljubomir", "Radmila", "Senad", "Emina", "Šaban", "Ramiza"]  # fmt: skip
LAST_NAMES = ["Jovanović", "Petrović", "Nikolić", "Marković", "Đorđević", "Stojanović", "Ilić", "Stanković",
              "Pavlović", "Milošević", "Todorović", "Kostić", "Ristić", "Mitrović", "Živković", "Lazić",
              "Savić", "Popović", "Krstić", "Đurić", "Mladenović", "Nešić", "Zečević", "Bajramović",
              "Demirović", "Šaćirović", "Rakić", "Lukić", "Vasić", "Radovanović"]  # fmt: skip
# Serbian Latin to Cyrillic, digraphs first.
_DIGRAPHS = {"Lj": "Љ", "lj": "љ", "Nj": "Њ", "nj": "њ", "Dž": "Џ", "dž": "џ"}
_LETTERS = dict(zip("ABVGDĐEŽZIJKLMNOPRSTĆUFHCČŠabvgdđežzijklmnoprstćufhcčš",
                    "АБВГДЂЕЖЗИЈКЛМНОПРСТЋУФХЦЧШабвгдђежзијклмнопрстћуфхцчш", strict=True))  # fmt: skip
_ASCII = str.maketrans("čćžšđČĆŽŠĐ", "cczsdCCZSD")


def cyrillic(latin: str) -> str:
    """A Serbian name in Latin script written in Cyrillic."""
    for digraph, letter in _DIGRAPHS.items():
        latin = latin.replace(digraph, letter)
    return "".join(_LETTERS.get(ch, ch) for ch in latin)


def _text(values: dict, language: str) -> str:
    return values.get(language) or next(iter(values.values()), "")


def _load(name: str) -> dict | None:
    """A curriculum file as one course spec (the course's fields with its ``modules``), or None if absent."""
    path = CONTENT / name
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return {**data["course"], "modules": data["modules"]}


def _course(programme: Programme, spec: dict, *, self_application: bool = False) -> Course:
    """A course with its modules and lessons from a curriculum file's structure."""
    default = spec["default_language"]
    accreditation = spec.get("accreditation") or {}
    course = Course(
        programme_id=programme.id, code=spec["code"], title=_text(spec["title"], default),
        summary=_text(spec.get("summary") or {}, default), kind=spec["kind"], default_language=default,
        self_application=self_application, accreditation_authority=accreditation.get("authority"),
        qualification_code=accreditation.get("qualification_code"), eqf_level=accreditation.get("eqf_level"),
        theory_hours=accreditation.get("theory_hours"), practice_hours=accreditation.get("practice_hours"),
    )  # fmt: skip
    db.session.add(course)
    db.session.flush()
    for position, module_spec in enumerate(spec["modules"], start=1):
        module = Module(course_id=course.id, position=position, title=_text(module_spec["title"], default),
                        summary=_text(module_spec.get("summary") or {}, default))  # fmt: skip
        db.session.add(module)
        db.session.flush()
        for lesson_position, lesson_spec in enumerate(module_spec["lessons"], start=1):
            lesson = Lesson(module_id=module.id, course_id=course.id, position=lesson_position,
                            estimated_minutes=lesson_spec.get("estimated_minutes") or 0,
                            video_url=lesson_spec.get("video_url"))  # fmt: skip
            db.session.add(lesson)
            db.session.flush()
            db.session.add_all(
                LessonVersion(lesson_id=lesson.id, language=language, title=title,
                              body_html=sanitise_html(lesson_spec["body"].get(language, "")), published=True)
                for language, title in lesson_spec["title"].items()
            )  # fmt: skip
    audit.append("catalogue.course.created", course, after={"code": course.code, "demo": True})
    return course


def _cohort(course: Course, name: str, city: str, language: str, capacity: int | None, today: date) -> Cohort:
    cohort = Cohort(course_id=course.id, programme_id=course.programme_id, name=name, city=city, language=language,
                    capacity=capacity, status="open", start_date=today - timedelta(days=14),
                    end_date=today + timedelta(days=70))  # fmt: skip
    db.session.add(cohort)
    db.session.flush()
    audit.append("catalogue.cohort.created", cohort, after={"name": name, "demo": True})
    return cohort


def _sessions(cohort: Cohort, tz_name: str, place: str, trainer: User, weekdays=(1, 3), practice_every: int = 0):
    """Sessions on the given weekdays, 09:00–13:00 local, from the cohort's start to its end, cycling modules."""
    modules = db.session.execute(
        select(Module.id).where(Module.course_id == cohort.course_id).order_by(Module.position)
    ).scalars().all()  # fmt: skip
    day, count, rows = cohort.start_date, 0, []
    while day <= cohort.end_date:
        if day.weekday() in weekdays:
            start = datetime.combine(day, datetime.min.time()).replace(hour=9)
            kind = "practice" if practice_every and count % practice_every == practice_every - 1 else "theory"
            session = Session(cohort_id=cohort.id, starts_at=to_utc(start, tz_name),
                              ends_at=to_utc(start.replace(hour=13), tz_name), mode="in_person", kind=kind,
                              place=place, module_id=modules[count % len(modules)] if modules else None)  # fmt: skip
            session.trainers = [trainer]
            rows.append(session)
            count += 1
        day += timedelta(days=1)
    db.session.add_all(rows)


def _enrol(cohort: Cohort, user_ids, *, sponsor_ids=None, status: str = "enrolled", when: datetime) -> list:
    """Bulk enrolments with their first history step and, for seats, the learner membership."""
    enrolments = []
    for user_id in user_ids:
        enrolment = Enrolment(user_id=user_id, cohort_id=cohort.id, status=status, applied_at=when,
                              sponsor_id=(sponsor_ids or {}).get(user_id))  # fmt: skip
        setattr(enrolment, f"{status}_at", when)
        enrolment.events = [EnrolmentEvent(from_status=None, to_status=status, at=when)]
        enrolments.append(enrolment)
        if status == "enrolled":
            db.session.add(Membership(user_id=user_id, role="learner", scope_type="cohort", scope_id=cohort.id))
    db.session.add_all(enrolments)
    db.session.flush()
    audit.append("catalogue.demo.enrolled", cohort, after={"count": len(enrolments), "status": status})
    return enrolments


def _bulk_people(prefix: str, count: int, password_hash: str, rng: random.Random) -> list[int]:
    """Learners ``<prefix>001…``: plausible Serbian names in both scripts, some without e-mail; one shared hash."""
    existing = dict(db.session.execute(select(User.username, User.id).where(User.username.like(prefix + "%"))).all())
    rows = []
    for n in range(1, count + 1):
        username = f"{prefix}{n:03d}"
        if username in existing:
            continue
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = None
        if rng.random() < 0.7:
            email = f"{first}.{last}.{username}@demo.example".translate(_ASCII).lower()
        rows.append(User(username=username, email=email, first_name=first, last_name=last,
                         first_name_alt=cyrillic(first), last_name_alt=cyrillic(last), locale="sr_Latn",
                         password_hash=password_hash))  # fmt: skip
    db.session.add_all(rows)
    db.session.flush()
    existing.update({user.username: user.id for user in rows})
    return [existing[f"{prefix}{n:03d}"] for n in range(1, count + 1)]


def _list_nova_learners(ctx) -> None:
    """The first NOVA learner of each city becomes a listed demo account (their batch shares one password)."""
    password = ctx.passwords.get("nova.bg.001") or secrets.token_urlsafe(9)
    for username in ("nova.bg.001", "nova.ni.001", "nova.ns.001"):
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            continue
        if not check_password(user.password_hash, password):
            user.password_hash = hash_password(password)
        ctx.users[username], ctx.passwords[username] = user, password


def build(ctx) -> None:
    """Programmes, courses, cohorts, sessions, enrolments, selection and grants of the demo (idempotent)."""
    today = utcnow().date()
    existing = {p.code: p for p in db.session.execute(select(Programme)).scalars()}
    programmes = {}
    for code, spec in PROGRAMMES.items():
        programme = existing.get(code)
        if programme is None:
            fields = {k: v for k, v in spec.items() if k not in ("partners", "manager", "targets")}
            programme = Programme(code=code, targets=json.dumps(spec["targets"]), **fields)
            programme.partners = [ctx.organisations[key] for key in spec["partners"]]
            db.session.add(programme)
            db.session.flush()
            audit.append("catalogue.programme.created", programme, after={"code": code, "demo": True})
            _build_programme(ctx, code, programme, today)
        programmes[code] = programme
        ctx.grant(spec["manager"], "programme_manager", "programme", programme.id)
    _list_nova_learners(ctx)
    _grant_cohort_roles(ctx, programmes)
    auditor = programmes["IPA-HRD-MK-2015-SI"]
    ctx.grant("auditor", "auditor", "programme", auditor.id)
    db.session.execute(
        Membership.__table__.update()
        .where(Membership.role == "auditor", Membership.scope_type == "programme", Membership.scope_id == auditor.id,
               Membership.valid_until.is_(None))
        .values(valid_until=utcnow() + timedelta(days=180))
    )  # fmt: skip
    ctx.extra["catalogue_programmes"] = programmes


def _build_programme(ctx, code: str, programme: Programme, today: date) -> None:
    when = utcnow() - timedelta(days=20)
    users, orgs = ctx.users, ctx.organisations
    if code == "IPA-HRD-MK-2015-SI":
        mentors = _load("mentors_for_social_inclusion.json")
        pre = _load("pre_employment.json")
        if mentors:
            course = _course(programme, mentors)
            cohort = _cohort(course, "Skopje 1 – mentors", "Skopje", "mk", 25, today)
            _sessions(cohort, programme.time_zone, "Employment Service Agency, Skopje, training room 2",
                      users["trainer.mk"])  # fmt: skip
            learners = {users[u].id: orgs[o].id for u, o in
                        (("learner.esa1", "esa_skopje"), ("learner.csw1", "csw_skopje"))}  # fmt: skip
            _enrol(cohort, list(learners), sponsor_ids=learners, when=when)
            first_lessons = db.session.execute(
                select(Lesson.id).where(Lesson.course_id == course.id).order_by(Lesson.module_id, Lesson.position)
                .limit(3)
            ).scalars().all()  # fmt: skip
            db.session.add_all(
                LessonProgress(user_id=users["learner.esa1"].id, lesson_id=lesson_id, course_id=course.id,
                               done_at=when, last_viewed_at=when) for lesson_id in first_lessons
            )  # fmt: skip
        if pre:
            course = _course(programme, {**pre, "default_language": "mk"})
            cohort = _cohort(course, "Čair – pre-employment", "Skopje", "mk", 20, today)
            _sessions(cohort, programme.time_zone, "Municipality of Čair, community hall", users["trainer.mk"],
                      weekdays=(0, 2), practice_every=3)  # fmt: skip
            _enrol(cohort, [users["learner.esa2"].id], sponsor_ids={users["learner.esa2"].id: orgs["esa_skopje"].id},
                   when=when)  # fmt: skip
    elif code == "EaSI-NOVA-RS":
        course = _course(programme, NOVA_COURSE)
        password_hash = hash_password(ctx.passwords.get("nova.bg.001") or secrets.token_urlsafe(9))
        rng = random.Random(2021)
        for city_code, city, place in (("bg", "Belgrade", "National Employment Service, Belgrade branch"),
                                       ("ni", "Niš", "Red Cross Niš, training centre"),
                                       ("ns", "Novi Sad", "Centre for Social Work Novi Sad")):  # fmt: skip
            cohort = _cohort(course, f"NOVA {city}", city, "sr_Latn", 100, today)
            _sessions(cohort, programme.time_zone, place, users["trainer.rs"], weekdays=(0, 2, 4), practice_every=2)
            _enrol(cohort, _bulk_people(f"nova.{city_code}.", 100, password_hash, rng), when=when)
    elif code == "IPA2016-SKGO-VALJEVO":
        pre = _load("pre_employment.json")
        if pre:
            course = _course(programme, {**pre, "code": "FWE-VA-01"}, self_application=True)
            cohort = _cohort(course, "Valjevo – first work experience", "Valjevo", "sr_Latn", 15, today)
            _sessions(cohort, programme.time_zone, "Centre for Roma Integration Valjevo", users["trainer.rs"],
                      weekdays=(1,))  # fmt: skip
            _selection(ctx, course, cohort, when)
    elif code == "SMIS-300609":
        cso = _load("cso_specialists.json")
        if cso:
            course = _course(programme, cso)
            cohort = _cohort(course, "București – seria 1", "București", "ro", 35, today)
            _sessions(cohort, programme.time_zone, "ASISED, Str. Exemplu 10, București", users["pm.ro"],
                      weekdays=(1, 3), practice_every=2)  # fmt: skip
            _enrol(cohort, [users["learner.ro1"].id], sponsor_ids={users["learner.ro1"].id: orgs["asised"].id},
                   when=when)  # fmt: skip


def _selection(ctx, course: Course, cohort: Cohort, when: datetime) -> None:
    """Published criteria, applicants with scores, and recorded decisions for some of them."""
    criteria = [
        SelectionCriterion(course_id=course.id, cohort_id=cohort.id, position=1, name="Motivation (interview)",
                           description="Interest in work and readiness to attend every day.", max_score=10, weight=3),
        SelectionCriterion(course_id=course.id, cohort_id=cohort.id, position=2, name="No previous work experience",
                           description="Priority for young people who have never had a formal job.", max_score=5,
                           weight=2),
        SelectionCriterion(course_id=course.id, cohort_id=cohort.id, position=3,
                           name="Member of the Roma community (self-declared)",
                           description="Recorded only as a score, with consent; the attribute itself is not kept.",
                           max_score=5, weight=1, is_sensitive=True),
    ]  # fmt: skip
    db.session.add_all(criteria)
    rng = random.Random(2019)
    password_hash = hash_password(secrets.token_urlsafe(9))
    applicants = [ctx.users["learner.roma1"].id, *_bulk_people("valjevo.", 11, password_hash, rng)]
    enrolments = _enrol(cohort, applicants, status="applied", when=when)
    db.session.flush()
    scorer = ctx.users["pm.rs"].id
    db.session.add(SelectionPublication(cohort_id=cohort.id, published_at=when - timedelta(days=10),
                                        published_by_id=scorer))  # fmt: skip
    for index, enrolment in enumerate(enrolments[:8]):
        total = 0
        for criterion in criteria:
            score = rng.randint(criterion.max_score // 2, criterion.max_score)
            total += score * criterion.weight
            db.session.add(SelectionScore(enrolment_id=enrolment.id, criterion_id=criterion.id, score=score,
                                          by_id=scorer, at=when))  # fmt: skip
        if index < 5:
            db.session.add(SelectionDecision(enrolment_id=enrolment.id, decision="selected", total_score=total,
                                             by_id=scorer, at=when, reason="Among the highest scores"))  # fmt: skip
            enrolment.status, enrolment.selected_at = "selected", when
            enrolment.events.append(EnrolmentEvent(from_status="applied", to_status="selected", by_id=scorer, at=when))


def _grant_cohort_roles(ctx, programmes: dict) -> None:
    """Trainers, mentor and supervisor on their cohorts; listed learners with their learner role."""
    cohorts = db.session.execute(select(Cohort).order_by(Cohort.id)).scalars().all()
    by_programme: dict[int, list[Cohort]] = {}
    for cohort in cohorts:
        by_programme.setdefault(cohort.programme_id, []).append(cohort)
    for code, trainer in (("IPA-HRD-MK-2015-SI", "trainer.mk"), ("EaSI-NOVA-RS", "trainer.rs"),
                          ("IPA2016-SKGO-VALJEVO", "trainer.rs")):  # fmt: skip
        for cohort in by_programme.get(programmes[code].id, []):
            ctx.grant(trainer, "trainer", "cohort", cohort.id)
    for cohort in by_programme.get(programmes["IPA2016-SKGO-VALJEVO"].id, []):
        ctx.grant("mentor.rs", "mentor", "cohort", cohort.id)
        ctx.grant("supervisor.valjevo", "supervisor", "cohort", cohort.id, organisation="Valjevo Metal Works")
    seated = db.session.execute(
        select(Membership.user_id, Membership.scope_id).where(Membership.role == "learner",
                                                              Membership.scope_type == "cohort")
    ).all()  # fmt: skip
    ids = {user.id: username for username, user in ctx.users.items()}
    for user_id, cohort_id in seated:
        if user_id in ids:
            ctx.grant(ids[user_id], "learner", "cohort", cohort_id)
