"""Personal iCalendar feeds: a secret, revocable URL listing a person's sessions (RFC 5545, written by hand).

The URL carries only a random token; the database keeps its SHA-256, so a leaked table opens no feed.
Creating a new feed ends the previous one.
"""

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from lms import audit
from lms.auth.services import token_digest
from lms.database import begin_write, utcnow
from lms.extensions import db
from lms.models import User

from .models import CalendarFeed, Session

PAST = timedelta(days=90)
FUTURE = timedelta(days=400)
LINE_OCTETS = 75


def active_feed(user: User) -> CalendarFeed | None:
    """The person's feed that still works, if any."""
    return db.session.execute(
        select(CalendarFeed).where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
    ).scalar_one_or_none()


def _revoke_all(user: User) -> list[int]:
    feeds = db.session.execute(
        select(CalendarFeed.id).where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
    ).scalars().all()  # fmt: skip
    if feeds:
        db.session.execute(update(CalendarFeed).where(CalendarFeed.id.in_(feeds)).values(revoked_at=utcnow()))
    return feeds


def create_feed(user: User) -> str:
    """A new secret feed for the person (any earlier one stops working); returns the token, shown only once."""
    begin_write()
    _revoke_all(user)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(user_id=user.id, token_hash=token_digest(token))
    db.session.add(feed)
    db.session.flush()
    audit.append("catalogue.calendar_feed.created", feed, actor=user, subject=user)
    db.session.commit()
    return token


def revoke_feed(user: User) -> bool:
    """End the person's feed; False when there was none."""
    begin_write()
    revoked = _revoke_all(user)
    if revoked:
        audit.append("catalogue.calendar_feed.revoked", object_type=CalendarFeed.__tablename__,
                     object_id=revoked[0], actor=user, subject=user)  # fmt: skip
    db.session.commit()
    return bool(revoked)


def feed_owner(token: str) -> User | None:
    """The active person whose feed the token opens (None: unknown or revoked token)."""
    if not token:
        return None
    return db.session.execute(
        select(User).join(CalendarFeed, CalendarFeed.user_id == User.id).where(
            CalendarFeed.token_hash == token_digest(token), CalendarFeed.revoked_at.is_(None), User.active.is_(True)
        )
    ).scalar_one_or_none()  # fmt: skip


def escape_text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 §3.3.11 requires: backslash, semicolon, comma and newlines."""
    value = (value or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (never inside a UTF-8 character); continuation lines start with a space."""
    encoded = line.encode()
    if len(encoded) <= LINE_OCTETS:
        return line
    parts, current, size, limit = [], [], 0, LINE_OCTETS
    for ch in line:
        width = len(ch.encode())
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1  # the leading space counts
        current.append(ch)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _utc(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def session_lines(session: Session, stamp: datetime, host: str) -> list[str]:
    """One VEVENT: UTC times, summary, place or meeting link, and a UID that stays the same for the session."""
    course = session.cohort.course.title
    title = session.title or (session.module.title if session.module else "")
    summary = f"{course}: {title}" if title else course
    lines = [
        "BEGIN:VEVENT",
        f"UID:session-{session.id}@{host}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(session.starts_at)}",
        f"DTEND:{_utc(session.ends_at)}",
        f"SUMMARY:{escape_text(summary)}",
    ]
    location = session.place if session.mode != "online" else ""
    if session.meeting_url:
        location = f"{location} ({session.meeting_url})" if location else session.meeting_url
        lines.append(f"URL:{session.meeting_url}")
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    lines.append(f"DESCRIPTION:{escape_text(session.cohort.name)}")
    lines.append("END:VEVENT")
    return lines


def calendar_text(user: User, host: str) -> str:
    """The person's sessions (as learner with a seat or as trainer) from 90 days ago to a year ahead, as iCalendar."""
    from .views import _calendar_sessions  # the same sessions as the calendar page

    now = utcnow()
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pathways LMS//Sessions//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", "X-WR-CALNAME:Pathways"]  # fmt: skip
    for session in _calendar_sessions(user, now - PAST, now + FUTURE):
        lines.extend(session_lines(session, now, host))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
