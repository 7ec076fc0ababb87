"""Core tables: people, organisations, memberships, sessions, audit chain, API tokens, tasks, outbox."""

import secrets
import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .database import utcnow
from .extensions import db

ORGANISATION_KINDS = (
    "employment_centre",
    "social_work_centre",
    "ngo",
    "employer",
    "training_provider",
    "public_authority",
)
ROLES = (
    "learner",
    "trainer",
    "mentor",
    "supervisor",
    "organisation_manager",
    "programme_manager",
    "auditor",
    "administrator",
    "member",
)
SCOPE_TYPES = ("site", "organisation", "programme", "cohort")


def new_pseudonym() -> str:
    """A random, stable pseudonymous id for the audit chain (never the database id or a name)."""
    return uuid.uuid4().hex


class User(UserMixin, db.Model):
    """A person. E-mail is optional; a username (or a phone number) is enough to sign in."""

    __tablename__ = "lms_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True, default=new_pseudonym)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    first_name: Mapped[str] = mapped_column(String(120), default="")
    last_name: Mapped[str] = mapped_column(String(120), default="")
    # The same name in the other script (Cyrillic or Latin), used where a page or certificate needs it.
    first_name_alt: Mapped[str | None] = mapped_column(String(120))
    last_name_alt: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_required: Mapped[bool] = mapped_column(Boolean, default=False)
    # The time step of the last authenticator code accepted: that code, and any older one, is never accepted again.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user", foreign_keys="Membership.user_id")

    @property
    def is_active(self) -> bool:
        """Flask-Login: deactivated people cannot sign in or keep a session."""
        return bool(self.active)

    @property
    def display_name(self) -> str:
        """The name as the person wrote it, or the username when no name is stored."""
        return self.name_from(self.first_name, self.last_name, self.username)

    @staticmethod
    def name_from(first_name: str, last_name: str, username: str | None) -> str:
        """``display_name`` from the columns alone, for pages that select them without loading the person."""
        return f"{first_name} {last_name}".strip() or username

    @property
    def totp_enabled(self) -> bool:
        """Whether the person has confirmed an authenticator app."""
        return self.totp_secret is not None

    def access_path(self):
        """A person is reached through their own scope, each organisation they are a current member of, and the site."""
        now = utcnow()
        organisations = [
            ("organisation", m.scope_id)
            for m in self.memberships
            if m.role == "member"
            and m.scope_type == "organisation"
            and (m.valid_from is None or m.valid_from <= now)
            and (m.valid_until is None or m.valid_until > now)
        ]
        return [("user", self.id), *organisations, ("site", None)]


class Organisation(db.Model):
    """An employment centre, centre for social work, NGO, employer, training provider or authority."""

    __tablename__ = "lms_organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_alt: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def access_path(self):
        """An organisation's data is reached through the organisation and the site."""
        return [("organisation", self.id), ("site", None)]


class Membership(db.Model):
    """A role a person holds in a scope (site, organisation, programme, cohort), optionally time-bound."""

    __tablename__ = "lms_membership"
    __table_args__ = (UniqueConstraint("user_id", "role", "scope_type", "scope_id", name="uq_lms_membership_grant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    scope_type: Mapped[str] = mapped_column(String(20))
    scope_id: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[datetime | None] = mapped_column(DateTime)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])

    def access_path(self):
        """A membership is managed from the scope it grants."""
        if self.scope_type == "site":
            return [("site", None)]
        return [(self.scope_type, self.scope_id), ("site", None)]


class AuthSession(db.Model):
    """A signed-in browser. The cookie only names it; ending it here ends the session everywhere."""

    __tablename__ = "lms_auth_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    second_factor_done: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class OneTimeCode(db.Model):
    """Invitation links, password-reset links and printable sign-in codes: single use, expiring."""

    __tablename__ = "lms_one_time_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # invitation | reset | signin
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class OutboxMessage(db.Model):
    """Mail waiting to be sent (or, in development, written to instance/outbox/)."""

    __tablename__ = "lms_outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)

    def access_path(self):
        """Mail is visible to site administrators only."""
        return [("site", None)]


class AuditEvent(db.Model):
    """One link of the append-only, hash-chained audit log. Never updated, never deleted."""

    __tablename__ = "lms_audit_event"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(32), default="")
    subject: Mapped[str] = mapped_column(String(32), default="")
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60), default="")
    object_id: Mapped[str] = mapped_column(String(60), default="")
    before_sha256: Mapped[str] = mapped_column(String(64))
    after_sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditPayload(db.Model):
    """The before/after states of an event, beside the chain: erasure blanks them, the chain still verifies."""

    __tablename__ = "lms_audit_payload"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("lms_audit_event.seq"), primary_key=True
    )
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditHead(db.Model):
    """The single row holding the chain's last link; appends lock it so the chain never forks."""

    __tablename__ = "lms_audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditSeal(db.Model):
    """A daily Ed25519 signature over the chain head, so a rewritten chain cannot pass as the original."""

    __tablename__ = "lms_audit_seal"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))


class ApiToken(db.Model):
    """A personal bearer token for /api/v1: stored hashed, scoped, expiring, revocable."""

    __tablename__ = "lms_api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("lms_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    scopes: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()

    @property
    def scope_list(self) -> list[str]:
        """The token's scopes as a list."""
        return [s for s in self.scopes.split() if s]

    def access_path(self):
        """A token belongs to its owner."""
        return [("user", self.user_id), ("site", None)]


class Task(db.Model):
    """Queued background work with a lease, bounded retries and progress a page can show."""

    __tablename__ = "lms_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: secrets.token_hex(16))
    name: Mapped[str] = mapped_column(String(80), index=True)
    args: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)  # queued|running|done|failed
    progress: Mapped[int] = mapped_column(Integer, default=0)  # 0..100
    progress_note: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    run_after: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    result_path: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("lms_user.id", ondelete="SET NULL"))
    # Where the task's result belongs, so that downloads follow the same access rules as the data.
    scope_type: Mapped[str] = mapped_column(String(20), default="site")
    scope_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    def access_path(self):
        """A task is reached through its creator, its scope and the site."""
        path = [("user", self.created_by_id)] if self.created_by_id else []
        if self.scope_type != "site":
            path.append((self.scope_type, self.scope_id))
        return [*path, ("site", None)]


class Setting(db.Model):
    """Small site-wide values: scheduler heartbeat, required two-factor roles, remembered import mappings."""

    __tablename__ = "lms_setting"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class DataGeneration(db.Model):
    """One counter that every committed change to the site's data moves on (``lms.database``).

    Cached pages are keyed by it (``lms.page_cache``): a page rendered before a change is never served after it.
    """

    __tablename__ = "lms_data_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
