"""Every write about accounts and sign-in: sessions, passwords, deactivation."""

import hashlib
import re
import secrets
from datetime import timedelta

from flask import session
from flask_login import login_user, logout_user
from sqlalchemy import func, or_, select, update

from .. import audit
from ..database import begin_write, utcnow
from ..extensions import db
from ..models import AuthSession, User
from .passwords import check_password, hash_password

SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
_PHONE_CHARS = re.compile(r"[\s\-().]")


def token_digest(token: str) -> str:
    """What is stored for a secret token: its SHA-256, so a database leak reveals no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_phone(value: str) -> str:
    """A phone number without spaces, dashes or brackets, as stored and compared."""
    return _PHONE_CHARS.sub("", value or "")


def find_account(identifier: str) -> User | None:
    """The account an e-mail address, username or phone number names (None when none does)."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    lowered = identifier.lower()
    phone = normalise_phone(identifier)
    conditions = [func.lower(User.username) == lowered, func.lower(User.email) == lowered]
    if phone and phone.lstrip("+").isdigit():
        conditions.append(User.phone == phone)
    return db.session.execute(select(User).where(or_(*conditions)).limit(1)).scalar_one_or_none()


def authenticate(identifier: str, password: str) -> User | None:
    """The active account matching the identifier and password; a failure is audited and returns None."""
    user = find_account(identifier)
    if user is not None and user.is_active and check_password(user.password_hash, password):
        return user
    if user is None:
        # Spend the same time as a real check so that response times do not reveal which accounts exist.
        check_password(_DUMMY_HASH, password)
    audit.record_refusal(
        "auth.login_failed",
        actor=user,
        object_type="lms_user" if user else "",
        object_id=user.id if user else "",
        reason="inactive" if user is not None and not user.is_active else "bad credentials",
    )
    return None


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def start_session(user: User, *, method: str = "password", second_factor_done: bool = False) -> None:
    """Sign ``user`` in: a new server-side session row, named by the cookie; the login is audited."""
    begin_write()
    token = secrets.token_urlsafe(32)
    db.session.add(AuthSession(token_hash=token_digest(token), user_id=user.id, second_factor_done=second_factor_done))
    user.last_login_at = utcnow()
    audit.append("auth.login", user, actor=user, subject=user, reason=method)
    db.session.commit()
    session.clear()
    session["sid"] = token
    session.permanent = True
    login_user(user)


def end_session() -> None:
    """Sign out: the session row ends, so a copy of the cookie no longer works anywhere."""
    token = session.get("sid")
    if token:
        begin_write()
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == token_digest(token), AuthSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
        db.session.commit()
    logout_user()
    session.clear()


def end_all_sessions(user: User, *, keep_current: bool = False) -> None:
    """End every session of ``user`` (after a password change or deactivation), in the caller's transaction."""
    query = update(AuthSession).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
    current = session.get("sid")
    if keep_current and current:
        query = query.where(AuthSession.token_hash != token_digest(current))
    db.session.execute(query.values(ended_at=utcnow()))


def user_for_session_token(token: str | None, user_id) -> User | None:
    """The signed-in user for a cookie's session token, if that session is still open and the account active."""
    if not token or not user_id:
        return None
    row = db.session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == token_digest(token), AuthSession.ended_at.is_(None))
    ).first()
    if row is None:
        return None
    auth_session, user = row
    if str(user.id) != str(user_id) or not user.active:
        return None
    if utcnow() - auth_session.last_seen_at > SESSION_TOUCH_INTERVAL:
        session_id = auth_session.id
        begin_write()
        db.session.execute(update(AuthSession).where(AuthSession.id == session_id).values(last_seen_at=utcnow()))
        db.session.commit()
    return user


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every other session of the person."""
    begin_write()
    user.password_hash = hash_password(new_password)
    end_all_sessions(user, keep_current=True)
    audit.append("auth.password_changed", user, subject=user)
    db.session.commit()


def set_active(user: User, active: bool, *, reason: str = "") -> None:
    """Deactivate (ending every session at once) or reactivate an account."""
    begin_write()
    before = {"active": user.active}
    user.active = active
    if not active:
        end_all_sessions(user)
    audit.append(
        "user.deactivated" if not active else "user.reactivated",
        user,
        subject=user,
        before=before,
        after={"active": active},
        reason=reason,
    )
    db.session.commit()
