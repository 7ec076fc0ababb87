"""Catalogue tables: programmes, courses, content, cohorts, sessions, enrolment, selection, progress.

Every object answers ``access_path()``: the scopes above it, from the narrowest to the site, so that
``lms.access.can`` can decide with memberships alone. Cohorts carry their programme's id so that the
paths of sessions and enrolments need no extra query beyond their cohort.
"""

import json
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.database import utcnow
from lms.extensions import db
from lms.models import Organisation, User

SITE = ("site", None)
COURSE_KINDS = ("mentor_training", "pre_employment", "vocational_qualification", "informal")
COHORT_STATUSES = ("planned", "open", "closed", "cancelled")
SESSION_MODES = ("in_person", "online", "hybrid")
SESSION_KINDS = ("theory", "practice")
ENROLMENT_STATUSES = ("applied", "selected", "enrolled", "waitlisted", "completed", "withdrawn")
# Enrolments that hold a seat in a cohort (capacity counts these).
SEAT_STATUSES = ("enrolled", "completed")
SENSITIVE_KINDS = ("ethnicity", "disability", "health")
DECISIONS = ("selected", "rejected", "waitlisted")

programme_partner = Table(
    "catalogue_programme_partner",
    db.metadata,
    Column("programme_id", ForeignKey("catalogue_programme.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("lms_organisation.id", ondelete="CASCADE"), primary_key=True),
)

session_trainer = Table(
    "catalogue_session_trainer",
    db.metadata,
    Column("session_id", ForeignKey("catalogue_session.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("lms_user.id", ondelete="CASCADE"), primary_key=True),
)


class Programme(db.Model):
    """A funded project (IPA, EaSI, ESF+): the scope programme managers and auditors are granted on."""

    __tablename__ = "catalogue_programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)  # SMIS / EaSI / contract number
    name: Mapped[str] = mapped_column(String(300))
    funder: Mapped[str] = mapped_column(String(200), default="")
    region: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str | None] = mapped_column(String(2))
    time_zone: Mapped[str] = mapped_column(String(64), default="Europe/Skopje")  # IANA name
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    languages: Mapped[str] = mapped_column(String(200), default="en")  # space-separated locale codes
    targets: Mapped[str] = mapped_column(Text, default="{}")  # JSON: indicator -> number
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    partners: Mapped[list[Organisation]] = relationship(secondary=programme_partner)
    courses: Mapped[list["Course"]] = relationship(back_populates="programme", order_by="Course.code")

    @property
    def language_list(self) -> list[str]:
        """The programme's languages as a list of locale codes."""
        return [code for code in self.languages.split() if code]

    @property
    def target_map(self) -> dict:
        """The targets as a dict (an unreadable value counts as none)."""
        try:
            value = json.loads(self.targets or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def access_path(self):
        """A programme is reached through itself and the site."""
        return [("programme", self.id), SITE]


class Course(db.Model):
    """What is taught: a kind, an accreditation and the modules; runs as cohorts."""

    __tablename__ = "catalogue_course"
    __table_args__ = (UniqueConstraint("programme_id", "code", name="uq_catalogue_course_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("catalogue_programme.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(30), default="informal")
    default_language: Mapped[str] = mapped_column(String(10), default="en")
    self_application: Mapped[bool] = mapped_column(Boolean, default=False)
    accreditation_authority: Mapped[str | None] = mapped_column(String(200))
    qualification_code: Mapped[str | None] = mapped_column(String(60))
    eqf_level: Mapped[int | None] = mapped_column(Integer)
    theory_hours: Mapped[int | None] = mapped_column(Integer)
    practice_hours: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="courses")
    modules: Mapped[list["Module"]] = relationship(back_populates="course", order_by="Module.position")
    cohorts: Mapped[list["Cohort"]] = relationship(back_populates="course", order_by="Cohort.start_date")

    def access_path(self):
        """A course belongs to its programme."""
        return [("programme", self.programme_id), SITE]


class Module(db.Model):
    """An ordered part of a course."""

    __tablename__ = "catalogue_module"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("catalogue_course.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")

    course: Mapped[Course] = relationship(back_populates="modules")
    lessons: Mapped[list["Lesson"]] = relationship(back_populates="module", order_by="Lesson.position")

    def access_path(self):
        """A module belongs to its course's programme."""
        return self.course.access_path()


class Lesson(db.Model):
    """A unit of learning inside a module; its text lives in one version per language."""

    __tablename__ = "catalogue_lesson"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("catalogue_module.id", ondelete="CASCADE"), index=True)
    # Denormalised so that a course's lessons (progress, previous/next) are one indexed query.
    course_id: Mapped[int] = mapped_column(ForeignKey("catalogue_course.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    estimated_minutes: Mapped[int] = mapped_column(Integer, default=0)
    video_url: Mapped[str | None] = mapped_column(String(500))
    required: Mapped[bool] = mapped_column(Boolean, default=True)

    module: Mapped[Module] = relationship(back_populates="lessons")
    course: Mapped[Course] = relationship()
    versions: Mapped[list["LessonVersion"]] = relationship(back_populates="lesson")
    attachments: Mapped[list["LessonAttachment"]] = relationship(back_populates="lesson")

    def access_path(self):
        """A lesson belongs to its course's programme."""
        return self.course.access_path()


class LessonVersion(db.Model):
    """A lesson's title and sanitised text in one language; learners see published versions only."""

    __tablename__ = "catalogue_lesson_version"
    __table_args__ = (UniqueConstraint("lesson_id", "language", name="uq_catalogue_lesson_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("catalogue_lesson.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    body_html: Mapped[str] = mapped_column(Text, default="")  # always stored sanitised
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    lesson: Mapped[Lesson] = relationship(back_populates="versions")

    def access_path(self):
        """A version belongs to its lesson."""
        return self.lesson.access_path()


class LessonAttachment(db.Model):
    """A file attached to a lesson, stored under ``LMS_STORAGE`` by content hash; type detected from its bytes."""

    __tablename__ = "catalogue_lesson_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("catalogue_lesson.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_path: Mapped[str] = mapped_column(String(500))  # relative to LMS_STORAGE
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    lesson: Mapped[Lesson] = relationship(back_populates="attachments")

    def access_path(self):
        """An attachment is reached like its lesson."""
        return self.lesson.access_path()


class Cohort(db.Model):
    """A run of a course: city, language, dates, capacity. Trainers are ``trainer`` memberships on it."""

    __tablename__ = "catalogue_cohort"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("catalogue_course.id", ondelete="CASCADE"), index=True)
    # Copied from the course so that access paths below a cohort need no join.
    programme_id: Mapped[int] = mapped_column(ForeignKey("catalogue_programme.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(120), default="")
    language: Mapped[str] = mapped_column(String(10), default="en")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    capacity: Mapped[int | None] = mapped_column(Integer)  # None: no limit
    status: Mapped[str] = mapped_column(String(20), default="planned")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    course: Mapped[Course] = relationship(back_populates="cohorts")
    programme: Mapped[Programme] = relationship()
    sessions: Mapped[list["Session"]] = relationship(back_populates="cohort", order_by="Session.starts_at")
    enrolments: Mapped[list["Enrolment"]] = relationship(back_populates="cohort")

    def access_path(self):
        """A cohort sits in its programme."""
        return [("cohort", self.id), ("programme", self.programme_id), SITE]


class Session(db.Model):
    """A scheduled meeting of a cohort, stored in UTC and shown in the programme's time zone."""

    __tablename__ = "catalogue_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("catalogue_cohort.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_module.id", ondelete="SET NULL"))
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # UTC
    ends_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    mode: Mapped[str] = mapped_column(String(20), default="in_person")
    kind: Mapped[str] = mapped_column(String(20), default="theory")
    place: Mapped[str] = mapped_column(String(300), default="")
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(300), default="")

    cohort: Mapped[Cohort] = relationship(back_populates="sessions")
    module: Mapped[Module | None] = relationship()
    trainers: Mapped[list[User]] = relationship(secondary=session_trainer)

    @property
    def minutes(self) -> int:
        """The session's planned length in minutes."""
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def access_path(self):
        """A session belongs to its cohort."""
        return [("cohort", self.cohort_id), ("programme", self.cohort.programme_id), SITE]


class Enrolment(db.Model):
    """A learner in a cohort, with the dates and reasons of each step of the lifecycle."""

    __tablename__ = "catalogue_enrolment"
    __table_args__ = (UniqueConstraint("user_id", "cohort_id", name="uq_catalogue_enrolment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("catalogue_cohort.id", ondelete="CASCADE"), index=True)
    sponsor_id: Mapped[int | None] = mapped_column(ForeignKey("lms_organisation.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="applied", index=True)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime)
    selected_at: Mapped[datetime | None] = mapped_column(DateTime)
    waitlisted_at: Mapped[datetime | None] = mapped_column(DateTime)
    enrolled_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text, default="")  # of the latest change
    # Set when a programme manager marks completion by hand rather than by the rules.
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    marked_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    cohort: Mapped[Cohort] = relationship(back_populates="enrolments")
    sponsor: Mapped[Organisation | None] = relationship()
    events: Mapped[list["EnrolmentEvent"]] = relationship(back_populates="enrolment", order_by="EnrolmentEvent.id")

    def access_path(self):
        """The learner, the sponsoring organisation, the cohort, the programme, the site."""
        path = [("user", self.user_id)]
        if self.sponsor_id:
            path.append(("organisation", self.sponsor_id))
        return [*path, ("cohort", self.cohort_id), ("programme", self.cohort.programme_id), SITE]

    def audit_state(self) -> dict:
        """What the audit chain records of an enrolment."""
        return {"user": self.user_id, "cohort": self.cohort_id, "sponsor": self.sponsor_id, "status": self.status}


class EnrolmentEvent(db.Model):
    """One step of an enrolment's history: from which status to which, by whom, why."""

    __tablename__ = "catalogue_enrolment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("catalogue_enrolment.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")

    enrolment: Mapped[Enrolment] = relationship(back_populates="events")
    by: Mapped[User | None] = relationship()

    def access_path(self):
        """History is seen like its enrolment."""
        return self.enrolment.access_path()


class SelectionCriterion(db.Model):
    """A published criterion of a transparent selection, for one cohort or for every cohort of a course."""

    __tablename__ = "catalogue_selection_criterion"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("catalogue_course.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("catalogue_cohort.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    max_score: Mapped[int] = mapped_column(Integer, default=10)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    # Depends on a sensitive attribute: only the score (the decision) is recorded, not the attribute.
    is_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)

    course: Mapped[Course] = relationship()

    def access_path(self):
        """Criteria are managed in the course's programme."""
        path = [("cohort", self.cohort_id)] if self.cohort_id else []
        return [*path, *self.course.access_path()]


class SelectionPublication(db.Model):
    """Whether a cohort's selection criteria are published (and so frozen), by whom and since when.

    Unpublishing keeps the row with who, when and why; the audit chain keeps every publication in turn.
    """

    __tablename__ = "catalogue_selection_publication"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("catalogue_cohort.id", ondelete="CASCADE"), unique=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    unpublished_at: Mapped[datetime | None] = mapped_column(DateTime)
    unpublished_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    unpublish_reason: Mapped[str] = mapped_column(Text, default="")

    cohort: Mapped[Cohort] = relationship()

    def access_path(self):
        """A publication belongs to its cohort."""
        return self.cohort.access_path()


class SelectionScore(db.Model):
    """One applicant's score on one criterion, with who scored and when."""

    __tablename__ = "catalogue_selection_score"
    __table_args__ = (UniqueConstraint("enrolment_id", "criterion_id", name="uq_catalogue_selection_score"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("catalogue_enrolment.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("catalogue_selection_criterion.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    enrolment: Mapped[Enrolment] = relationship()
    criterion: Mapped[SelectionCriterion] = relationship()
    by: Mapped[User | None] = relationship()

    def access_path(self):
        """A score is seen like the application it scores."""
        return self.enrolment.access_path()


class SelectionDecision(db.Model):
    """The recorded decision on an application: selected, rejected or waitlisted, by whom and why."""

    __tablename__ = "catalogue_selection_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("catalogue_enrolment.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    total_score: Mapped[int | None] = mapped_column(Integer)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")

    enrolment: Mapped[Enrolment] = relationship()
    by: Mapped[User | None] = relationship()

    def access_path(self):
        """A decision is seen like the application it decides."""
        return self.enrolment.access_path()


class ConsentRecord(db.Model):
    """A person's recorded consent to one purpose, with the version of the text they agreed to."""

    __tablename__ = "catalogue_consent_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(60))  # e.g. sensitive:ethnicity
    text_version: Mapped[str] = mapped_column(String(40))
    given_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)

    def access_path(self):
        """A consent belongs to its person."""
        return [("user", self.user_id), SITE]


class SensitiveAttribute(db.Model):
    """Ethnicity, disability or health information, kept only with a consent and shown to programme managers."""

    __tablename__ = "catalogue_sensitive_attribute"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalogue_enrolment.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)
    consent_id: Mapped[int] = mapped_column(ForeignKey("catalogue_consent_record.id", ondelete="CASCADE"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    enrolment: Mapped[Enrolment | None] = relationship()
    consent: Mapped[ConsentRecord] = relationship()

    def access_path(self):
        """Reached through the enrolment's programme, never through the person's own scope."""
        if self.enrolment_id:
            return [("cohort", self.enrolment.cohort_id), ("programme", self.enrolment.cohort.programme_id), SITE]
        return [SITE]


class LessonProgress(db.Model):
    """Where a person is in a lesson: when they last opened it and when they marked it done."""

    __tablename__ = "catalogue_lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id", name="uq_catalogue_lesson_progress"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("catalogue_lesson.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("catalogue_course.id", ondelete="CASCADE"), index=True)
    last_viewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)

    def access_path(self):
        """Progress belongs to the learner."""
        return [("user", self.user_id), SITE]


class ImportMapping(db.Model):
    """A remembered column mapping for an organisation's staff files, keyed by the header row's signature."""

    __tablename__ = "catalogue_import_mapping"
    __table_args__ = (UniqueConstraint("organisation_id", "header_signature", name="uq_catalogue_import_mapping"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("lms_organisation.id", ondelete="CASCADE"), index=True)
    header_signature: Mapped[str] = mapped_column(String(64))
    mapping: Mapped[str] = mapped_column(Text, default="{}")  # JSON: column index -> field
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    def access_path(self):
        """A mapping belongs to its organisation."""
        return [("organisation", self.organisation_id), SITE]


class CalendarFeed(db.Model):
    """A person's secret iCalendar feed: only the token's hash is stored; revoking ends it."""

    __tablename__ = "catalogue_calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)

    def access_path(self):
        """A feed belongs to its person."""
        return [("user", self.user_id), SITE]
