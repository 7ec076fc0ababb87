"""The health report behind ``/healthz``: database, scheduler heartbeat, queue depth."""

from datetime import datetime, timedelta

from sqlalchemy import func, select, text

from .database import utcnow
from .extensions import db
from .models import Setting, Task

HEARTBEAT_KEY = "scheduler.heartbeat"
HEARTBEAT_STALE = timedelta(minutes=3)


def health_report() -> dict:
    """A JSON-ready dict; ``database`` is ``ok`` or ``error``, the scheduler ``ok``, ``stale`` or ``never``."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        db.session.rollback()
        return {"database": "error", "scheduler": "unknown", "queue_depth": None}
    beat = db.session.get(Setting, HEARTBEAT_KEY)
    if beat is None:
        scheduler = "never"
    else:
        scheduler = "ok" if utcnow() - datetime.fromisoformat(beat.value) < HEARTBEAT_STALE else "stale"
    depth = db.session.execute(select(func.count()).select_from(Task).where(Task.status == "queued")).scalar_one()
    return {
        "database": "ok",
        "scheduler": scheduler,
        "scheduler_heartbeat": beat.value if beat else None,
        "queue_depth": depth,
    }
