"""Catalogue rules: sanitising, attachments by content, the enrolment lifecycle, capacity, completion."""

import io
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from courses.catalogue import services
from courses.catalogue.models import Enrolment, EnrolmentEvent, Lesson, SensitiveAttribute, Session
from lms.extensions import db
from lms.models import AuditEvent, Membership, User
from tests.courses.catalogue.factories import build_course


@pytest.fixture
def ctx(app, make_user):
    """An application context with a programme manager."""
    manager = make_user("pm")
    with app.app_context():
        yield db.session.get(User, manager.id)


def _learners(make_user, n, prefix="learner"):
    """People made in their own context; the test's session ends its read transaction to see them."""
    made = [make_user(f"{prefix}{i}") for i in range(n)]
    db.session.commit()
    return made


def test_sanitising_keeps_structure_and_drops_scripts_handlers_and_javascript_links():
    dirty = (
        '<h2>Title</h2><script>alert(1)</script><p onclick="x()">Text <a href="javascript:alert(1)">bad</a> '
        '<a href="https://example.org">good</a></p><img src="x.png" onerror="alert(1)" alt="pic">'
        '<table><tr><th scope="col">A</th></tr></table><iframe src="https://evil"></iframe>'
        '<img src="data:image/svg+xml;base64,AAAA" alt="inline">'
    )
    clean = services.sanitise_html(dirty)
    assert "<h2>Title</h2>" in clean and "<table>" in clean and '<th scope="col">' in clean
    assert "<script" not in clean and "alert" not in clean and "onclick" not in clean and "onerror" not in clean
    assert "javascript:" not in clean and "<iframe" not in clean and "data:" not in clean
    assert '<a href="https://example.org" rel="noopener noreferrer">good</a>' in clean


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0JFIF", "image/jpeg"),
        (_docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("Обична белешка\n".encode(), "text/plain; charset=utf-8"),
        (b"ID3\x03\x00", "audio/mpeg"),
        (b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        (b"MZ\x90\x00\x03\x00\x00\x00", None),  # Windows executable
        (b"\x7fELF\x02\x01", None),
        (b"<!doctype html><script>alert(1)</script>", None),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', None),
        (b"PK\x03\x04 not really a zip", None),
    ],
)
def test_attachment_types_are_judged_by_content(data, expected):
    assert services.detect_content_type(data) == expected


def test_attachment_named_pdf_but_holding_html_is_refused_and_nothing_is_stored(ctx, app):
    _programme, course, _cohort = build_course(ctx)
    lesson = db.session.execute(select(Lesson)).scalars().first()
    with pytest.raises(services.CatalogueError, match="cannot be attached"):
        services.add_attachment(lesson, "handout.pdf", b"<html><script>alert(1)</script></html>", ctx)
    app.config["CATALOGUE_ATTACHMENT_MAX_BYTES"] = 10
    with pytest.raises(services.CatalogueError, match="too large"):
        services.add_attachment(lesson, "big.pdf", b"%PDF-" + b"x" * 20, ctx)
    assert not lesson.attachments
    app.config["CATALOGUE_ATTACHMENT_MAX_BYTES"] = 1000
    stored = services.add_attachment(lesson, "../../etc/handout.pdf", b"%PDF-1.4 ok", ctx)
    assert stored.filename == "handout.pdf" and stored.content_type == "application/pdf"
    assert services.attachment_path(stored).read_bytes() == b"%PDF-1.4 ok"


def test_lifecycle_applied_selected_enrolled_with_history_and_learner_role(ctx, make_user):
    _programme, _course, cohort = build_course(ctx)
    (learner,) = _learners(make_user, 1)
    enrolment = services.enrol(db.session.get(User, learner.id), cohort, ctx, apply_only=True)
    assert enrolment.status == "applied" and enrolment.applied_at
    services.change_status(enrolment, "selected", ctx, "Scored 42 of 50")
    services.change_status(enrolment, "enrolled", ctx)
    assert enrolment.status == "enrolled" and enrolment.selected_at and enrolment.enrolled_at
    steps = [(e.from_status, e.to_status) for e in db.session.execute(select(EnrolmentEvent)).scalars()]
    assert steps == [(None, "applied"), ("applied", "selected"), ("selected", "enrolled")]
    assert db.session.execute(
        select(Membership).where(Membership.user_id == learner.id, Membership.role == "learner",
                                 Membership.scope_id == cohort.id)
    ).scalar_one()  # fmt: skip
    with pytest.raises(services.CatalogueError):
        services.change_status(enrolment, "applied", ctx)
    with pytest.raises(services.CatalogueError, match="reason"):
        services.change_status(enrolment, "withdrawn", ctx, "")
    with pytest.raises(services.CatalogueError, match="already"):
        services.enrol(db.session.get(User, learner.id), cohort, ctx)


def test_full_cohort_waitlists_and_a_withdrawal_promotes_the_first_waiting(ctx, make_user):
    _programme, _course, cohort = build_course(ctx, capacity=2)
    people = [db.session.get(User, u.id) for u in _learners(make_user, 4)]
    statuses = [services.enrol(person, cohort, ctx).status for person in people]
    assert statuses == ["enrolled", "enrolled", "waitlisted", "waitlisted"]
    first = db.session.execute(select(Enrolment).where(Enrolment.user_id == people[0].id)).scalar_one()
    promoted = services.change_status(first, "withdrawn", ctx, "Found a job")
    assert promoted.user_id == people[2].id and promoted.status == "enrolled"
    assert services.seats_taken(cohort.id) == 2
    third = db.session.execute(select(Enrolment).where(Enrolment.user_id == people[3].id)).scalar_one()
    assert third.status == "waitlisted"
    assert db.session.execute(
        select(Membership.id).where(Membership.user_id == people[0].id, Membership.role == "learner")
    ).first() is None  # fmt: skip


def test_completion_waits_for_cohort_end_and_lessons_then_completes(ctx, make_user):
    today = date.today()
    _programme, _course, cohort = build_course(ctx, lessons=2, start=today - timedelta(days=30),
                                               end=today - timedelta(days=1))  # fmt: skip
    learner = db.session.get(User, _learners(make_user, 1)[0].id)
    enrolment = services.enrol(learner, cohort, ctx)
    assert services.blockers(enrolment) == [("lessons_incomplete", {"done": 0, "required": 2})]
    assert services.blocker_messages(services.blockers(enrolment)) == ["Lessons done: 0 of 2 required."]
    assert not services.complete_if_ready(enrolment)
    for lesson in db.session.execute(select(Lesson)).scalars():
        services.mark_done(learner, lesson)
    assert services.blockers(enrolment) == []
    assert not services.complete_if_ready(enrolment, today=cohort.end_date)  # the cohort must have ended
    assert services.complete_if_ready(enrolment)
    assert enrolment.status == "completed" and enrolment.completed_at


def test_programme_manager_marks_completed_with_a_reason(ctx, make_user):
    _programme, _course, cohort = build_course(ctx)
    learner = db.session.get(User, _learners(make_user, 1)[0].id)
    enrolment = services.enrol(learner, cohort, ctx)
    with pytest.raises(services.CatalogueError):
        services.mark_completed(enrolment, ctx, " ")
    services.mark_completed(enrolment, ctx, "Recognised prior learning")
    assert enrolment.status == "completed" and enrolment.completed_by_id == ctx.id
    assert enrolment.marked_reason == "Recognised prior learning"


def test_enrolment_created_hook_fires_after_commit(ctx, make_user, app):
    seen = []

    class Listener:
        @staticmethod
        def lms_enrolment_created(enrolment):
            seen.append((enrolment.id, db.session.get(Enrolment, enrolment.id) is not None))

    from lms.plugins import hookimpl

    Listener.lms_enrolment_created = hookimpl(Listener.lms_enrolment_created)
    app.extensions["lms_plugins"].register(Listener, name="listener")
    _programme, _course, cohort = build_course(ctx)
    enrolment = services.enrol(db.session.get(User, _learners(make_user, 1)[0].id), cohort, ctx)
    assert seen == [(enrolment.id, True)]


def test_sensitive_attributes_need_consent_and_stay_out_of_the_audit_chain(ctx, make_user):
    _programme, _course, cohort = build_course(ctx)
    enrolment = services.enrol(db.session.get(User, _learners(make_user, 1)[0].id), cohort, ctx, apply_only=True)
    with pytest.raises(services.CatalogueError, match="consent"):
        services.record_sensitive(enrolment, "ethnicity", "Roma", consent_text_version="v1", consent_given=False,
                                  by=ctx)  # fmt: skip
    assert db.session.execute(select(SensitiveAttribute)).first() is None
    services.record_sensitive(enrolment, "ethnicity", "Roma", consent_text_version="v1", consent_given=True, by=ctx)
    from lms.models import AuditPayload

    payloads = " ".join((p.after or "") for p in db.session.execute(select(AuditPayload)).scalars())
    assert "Roma" not in payloads and "sha256:" in payloads


def test_sessions_are_stored_in_utc_from_programme_local_time(ctx):
    from datetime import datetime

    _programme, _course, cohort = build_course(ctx)
    session = services.schedule_session(cohort, starts_local=datetime(2026, 7, 1, 9), ends_local=datetime(2026, 7, 1, 13),
                                        by=ctx, place="Skopje, room 4")  # fmt: skip
    assert session.starts_at == datetime(2026, 7, 1, 7)  # Skopje is UTC+2 in summer
    with pytest.raises(services.CatalogueError, match="meeting link"):
        services.schedule_session(cohort, starts_local=datetime(2026, 7, 2, 9), ends_local=datetime(2026, 7, 2, 13),
                                  by=ctx, mode="online")  # fmt: skip
    with pytest.raises(services.CatalogueError, match="end after"):
        services.schedule_session(cohort, starts_local=datetime(2026, 7, 2, 13), ends_local=datetime(2026, 7, 2, 9),
                                  by=ctx, place="x")  # fmt: skip
    assert len(db.session.execute(select(Session)).all()) == 1
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "catalogue.session.scheduled")).first()
