"""Queued background tasks: enqueue, claim with a lease, progress that renews it, bounded retries.

A worker claims one task at a time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the claim
runs inside ``BEGIN IMMEDIATE``, which serialises claimers), runs its handler from
``lms_task_handlers`` and records the outcome. Every state change a worker makes is fenced on
``claimed_by``: a worker whose lease expired and whose task was claimed again cannot overwrite the
new owner's progress or result. Results are files under ``LMS_STORAGE`` (``app.config["STORAGE"]``),
stored by their path relative to it, so any node sharing the volume can serve the download.
"""

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from .database import begin_write, utcnow
from .extensions import db
from .models import Task
from .plugins import hook

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
MAX_BACKOFF = timedelta(hours=1)
RETRY_BASE = timedelta(seconds=30)


class LeaseLost(Exception):  # noqa: N818  (a state, not a programming error)
    """The worker's lease ran out and another worker claimed the task: stop working on it."""


def task_handlers() -> dict:
    """``{task_name: handler}`` from every enabled plugin's ``lms_task_handlers``."""
    handlers = {}
    for table in hook().lms_task_handlers():
        handlers.update(table or {})
    return handlers


def enqueue(name: str, args: dict, *, created_by=None, scope=("site", None), run_after: datetime | None = None) -> Task:
    """Queue a task inside the caller's write transaction; the caller commits (so the task exists only if
    the change that asked for it does).

    ``scope`` is the ``(scope_type, scope_id)`` the result belongs to: downloads follow its access rules.
    """
    if name not in task_handlers():
        raise ValueError(f"no handler is registered for task {name!r}")
    begin_write()
    scope_type, scope_id = scope
    task = Task(
        name=name,
        args=json.dumps(args, sort_keys=True, default=str),
        created_by_id=created_by.id if created_by is not None else None,
        scope_type=scope_type,
        scope_id=scope_id,
        run_after=run_after or utcnow(),
        max_attempts=current_app.config["TASK_MAX_ATTEMPTS"],
    )
    db.session.add(task)
    db.session.flush()
    return task


def arguments(task: Task) -> dict:
    """A task's arguments as the dict it was enqueued with."""
    return json.loads(task.args or "{}")


def _lease_until() -> datetime:
    return utcnow() + timedelta(seconds=current_app.config["TASK_LEASE_SECONDS"])


def claim(worker_id: str) -> Task | None:
    """Take the next runnable task (queued and due, or running with an expired lease) and lease it to
    ``worker_id``; None when there is nothing to do. Commits its own short transaction."""
    session = db.session()
    begin_write(session)
    now = utcnow()
    expired = and_(Task.status == RUNNING, Task.lease_until < now)
    # A task whose worker died on its last attempt will never be claimed again: it has failed.
    session.execute(
        update(Task)
        .where(expired, Task.attempts >= Task.max_attempts)
        .values(status=FAILED, error="The worker stopped before finishing.", finished_at=now, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    runnable = or_(and_(Task.status == QUEUED, Task.run_after <= now), expired)
    task = session.execute(
        select(Task)
        .where(runnable, Task.attempts < Task.max_attempts)
        .order_by(Task.run_after, Task.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # SQLite renders no FOR UPDATE: BEGIN IMMEDIATE serialises instead
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if task is not None:
        task.status, task.claimed_by, task.lease_until = RUNNING, worker_id, _lease_until()
        task.attempts += 1
        task.error = None
    session.commit()
    return task


def _fenced_update(task_id: int, worker_id: str, **values) -> bool:
    """Change a running task only while ``worker_id`` still holds it, in a transaction of its own
    (the handler's own transaction, if any, is left alone). False when the lease was lost."""
    with Session(db.engine) as session:
        begin_write(session)
        result = session.execute(
            update(Task)
            .where(Task.id == task_id, Task.claimed_by == worker_id, Task.status == RUNNING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.commit()
    return result.rowcount == 1


def progress_reporter(task_id: int, worker_id: str):
    """The ``progress(percent, note=None)`` a handler receives: records progress and renews the lease.

    Call it between the handler's own write transactions (on SQLite a held write lock would make it
    wait). Raises ``LeaseLost`` when another worker has taken the task over.
    """

    def progress(percent: int, note: str | None = None) -> None:
        values = {"progress": max(0, min(100, int(percent))), "lease_until": _lease_until()}
        if note is not None:
            values["progress_note"] = str(note)[:200]
        if not _fenced_update(task_id, worker_id, **values):
            raise LeaseLost(task_id)

    return progress


def storage_root() -> Path:
    """The directory results are written to (``LMS_STORAGE``)."""
    return Path(current_app.config["STORAGE"]).resolve()


def result_file(task: Task, filename: str) -> Path:
    """Where a handler writes its result: ``<storage>/tasks/<public id>/<filename>`` (directory created)."""
    folder = storage_root() / "tasks" / task.public_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder / Path(filename).name


def stored_result(task: Task) -> Path | None:
    """The absolute path of a finished task's result file, or None when it has none (or it is gone)."""
    if not task.result_path:
        return None
    root = storage_root()
    path = (root / task.result_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def _relative_result(result) -> str | None:
    if result is None:
        return None
    root = storage_root()
    path = Path(result).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"a task result must be under LMS_STORAGE ({root}), not {path}")
    return str(path.relative_to(root))


def _backoff(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, RETRY_BASE * 2 ** max(0, attempts - 1))


def run_one(worker_id: str) -> Task | None:
    """Claim one task and run it; returns the task (reloaded) or None when the queue had nothing due.

    Success: status ``done`` with ``result_path``. An exception: the error is recorded and the task is
    queued again after a backoff, or ``failed`` once its attempts are used up.
    """
    task = claim(worker_id)
    if task is None:
        return None
    task_id, name, attempts, max_attempts = task.id, task.name, task.attempts, task.max_attempts
    handler = task_handlers().get(name)
    try:
        if handler is None:
            raise LookupError(f"no handler is registered for task {name!r}")
        result_path = _relative_result(handler(task, progress_reporter(task_id, worker_id)))
    except LeaseLost:
        log.warning("task %s: lease lost to another worker; stopped", task_id)
    except Exception as error:
        db.session.rollback()
        log.exception("task %s (%s) failed on attempt %s", task_id, name, attempts)
        message = f"{type(error).__name__}: {error}"[:2000]
        if attempts >= max_attempts:
            _fenced_update(task_id, worker_id, status=FAILED, error=message, finished_at=utcnow(), claimed_by=None)
        else:
            retry_at = utcnow() + _backoff(attempts)
            _fenced_update(task_id, worker_id, status=QUEUED, error=message, run_after=retry_at, claimed_by=None)
    else:
        db.session.rollback()  # whatever the handler left uncommitted is not part of the outcome
        _fenced_update(
            task_id, worker_id, status=DONE, progress=100, result_path=result_path, finished_at=utcnow(), error=None
        )
    db.session.rollback()  # a new snapshot: the outcome was written by another session
    return db.session.get(Task, task_id)
