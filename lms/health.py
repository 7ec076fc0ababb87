"""The health report behind ``/healthz``: database, scheduler heartbeat, queue depth."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from .database import utcnow
from .extensions import db
from .models import Setting, Task

HEARTBEAT_KEY = "scheduler.heartbeat"
HEARTBEAT_STALE = timedelta(minutes=3)


def _beat_age(value: str) -> timedelta:
    """How long ago a heartbeat was written (ISO 8601; an unreadable value counts as very old)."""
    try:
        beat = datetime.fromisoformat(value)
    except ValueError:
        return timedelta.max
    if beat.tzinfo is not None:
        beat = beat.astimezone(UTC).replace(tzinfo=None)
    return utcnow() - beat


def health_report() -> dict:
    """A JSON-ready dict; ``database`` is ``ok`` or ``error``, the scheduler ``ok``, ``stale`` or ``never``."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return {"database": "error", "scheduler": "unknown", "queue_depth": None}
    beat = db.session.get(Setting, HEARTBEAT_KEY)
    scheduler = "never" if beat is None else ("ok" if _beat_age(beat.value) < HEARTBEAT_STALE else "stale")
    depth = db.session.execute(select(func.count()).select_from(Task).where(Task.status == "queued")).scalar_one()
    return {
        "database": "ok",
        "scheduler": scheduler,
        "scheduler_heartbeat": beat.value if beat else None,
        "queue_depth": depth,
    }
