"""``flask lms scheduler`` (exactly one, elected by a lock), ``flask lms worker`` (any number), and both
inside the web process for ``make run``.

The scheduler runs the jobs of ``lms_scheduled_jobs`` (each in an application context) and writes a
heartbeat that ``/healthz`` reports. On PostgreSQL the election is ``pg_try_advisory_lock`` held by a
dedicated connection for the process's lifetime: a second scheduler polls and takes over when the
first one's connection goes away. On SQLite it is ``flock`` on a file beside the database (in
``instance/`` by default): one database, one scheduler.
"""

import atexit
import fcntl
import logging
import os
import signal
import socket
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import text

from .database import begin_write
from .extensions import db
from .health import HEARTBEAT_KEY
from .models import Setting
from .plugins import flat, hook

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
ADVISORY_LOCK_KEY = 0x50415448  # "PATH": one key for the whole site
LOCK_POLL_SECONDS = 5.0
WORKER_IDLE_MIN, WORKER_IDLE_MAX = 0.5, 5.0
_start_guard = threading.Lock()


def heartbeat() -> None:
    """Record that the scheduler is alive (UTC, ISO 8601); ``/healthz`` calls it stale after a few minutes.

    Every 30 seconds, and shown on no page but ``/healthz``: bookkeeping, so kept pages stay valid."""
    begin_write(bookkeeping=True)
    now = datetime.now(UTC).isoformat()
    setting = db.session.get(Setting, HEARTBEAT_KEY)
    if setting is None:
        db.session.add(Setting(key=HEARTBEAT_KEY, value=now))
    else:
        setting.value = now
    db.session.commit()


class SchedulerLock:
    """The election that lets exactly one scheduler run per database."""

    def __init__(self, app):
        self.app = app
        self._connection = None
        self._file = None

    def _lock_file_path(self) -> Path:
        database = db.engine.url.database
        if database and database != ":memory:":
            return Path(database).with_suffix(".scheduler.lock")
        return Path(self.app.instance_path) / "scheduler.lock"

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; never waits."""
        if self._connection is not None or self._file is not None:
            return True
        with self.app.app_context():
            if db.engine.dialect.name == "postgresql":
                return self._try_advisory_lock()
            return self._try_flock()

    def _try_advisory_lock(self) -> bool:
        connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}).scalar()
        except Exception:
            connection.invalidate()
            raise
        if got:
            self._connection = connection
        else:
            connection.close()
        return bool(got)

    def _try_flock(self) -> bool:
        path = self._lock_file_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")  # noqa: SIM115  (held open for the process's lifetime)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def acquire(self, stop: threading.Event | None = None, poll_seconds: float = LOCK_POLL_SECONDS) -> bool:
        """Wait (polling) until the lock is ours; False if ``stop`` is set first."""
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                if self.try_acquire():
                    return True
            except Exception:
                log.exception("scheduler lock: the database did not answer; trying again")
            stop.wait(poll_seconds)
        return False

    def held(self) -> bool:
        """Whether the lock is still ours (a PostgreSQL restart ends the session that held it)."""
        if self._file is not None:
            return True
        if self._connection is None:
            return False
        try:
            return bool(
                self._connection.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND pid = pg_backend_pid() AND objid = :key"
                    ),
                    {"key": ADVISORY_LOCK_KEY},
                ).scalar()
            )
        except Exception:
            return False

    def release(self) -> None:
        """Give the lock up (a process that dies releases it too)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                self._connection.close()
            except Exception:
                self._connection.invalidate()
            self._connection = None


def _in_app_context(app, job_id: str, function):
    def run():
        with app.app_context():
            try:
                function()
            except Exception:
                log.exception("scheduled job %s failed", job_id)
                raise

    run.__name__ = f"lms_job_{job_id}"
    return run


def build_scheduler(app, scheduler_class, lock: SchedulerLock):
    """A scheduler (UTC) with every plugin's jobs, each in an app context, and a watch on the lock."""
    scheduler = scheduler_class(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    )
    with app.app_context():
        jobs = flat(hook().lms_scheduled_jobs())
    for job_id, function, trigger in jobs:
        scheduler.add_job(_in_app_context(app, job_id, function), id=job_id, replace_existing=True, **trigger)

    def watch_lock():
        # Without the lock another scheduler may be running: stop rather than run every job twice.
        if not lock.held():
            log.error("scheduler lock lost: stopping this scheduler")
            scheduler.shutdown(wait=False)

    scheduler.add_job(watch_lock, "interval", seconds=HEARTBEAT_SECONDS, id="scheduler.lock")
    # Beat once at start, so /healthz shows a new scheduler at once rather than after the first interval.
    scheduler.add_job(_in_app_context(app, "scheduler.first_heartbeat", heartbeat), id="scheduler.first_heartbeat")
    return scheduler


def new_worker_id() -> str:
    """A worker's name in ``claimed_by``: host, process and a random part (threads of one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run_worker(app, worker_id: str, stop: threading.Event) -> None:
    """Run tasks until ``stop`` is set; idle polling backs off from half a second to five.

    A task in progress is finished before stopping (that is what makes SIGTERM graceful).
    """
    from .tasks import run_one

    delay = WORKER_IDLE_MIN
    while not stop.is_set():
        with app.app_context():
            try:
                task = run_one(worker_id)
            except Exception:
                log.exception("worker %s: could not claim a task", worker_id)
                task, delay = None, WORKER_IDLE_MAX
        if task is not None:
            delay = WORKER_IDLE_MIN
            continue
        stop.wait(delay)
        delay = min(WORKER_IDLE_MAX, delay * 2)


def _stop_on_signals(callback) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: callback())


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduler (only one runs: a second one waits and takes over when the first stops)."""
    app = current_app._get_current_object()
    lock, stop = SchedulerLock(app), threading.Event()
    _stop_on_signals(stop.set)
    if not lock.try_acquire():
        click.echo("Another scheduler is running; waiting to take over.")
        if not lock.acquire(stop, app.config.get("SCHEDULER_POLL_SECONDS", LOCK_POLL_SECONDS)):
            return
    scheduler = build_scheduler(app, BlockingScheduler, lock)
    _stop_on_signals(lambda: scheduler.shutdown(wait=False))
    click.echo("Scheduler running.")
    try:
        scheduler.start()
    finally:
        lock.release()
    click.echo("Scheduler stopped.")


@click.command("worker")
@with_appcontext
def worker_command():
    """Run queued tasks until stopped (SIGTERM finishes the current task first)."""
    app = current_app._get_current_object()
    worker_id, stop = new_worker_id(), threading.Event()
    _stop_on_signals(stop.set)
    click.echo(f"Worker {worker_id} running.")
    run_worker(app, worker_id, stop)
    click.echo(f"Worker {worker_id} stopped.")


class InProcess:
    """The scheduler and one worker thread inside the web process (``make run``)."""

    def __init__(self, app):
        self.app = app
        self.lock = SchedulerLock(app)
        self.stop_event = threading.Event()
        self.scheduler = None
        self.worker = threading.Thread(
            target=run_worker, args=(app, new_worker_id(), self.stop_event), name="lms-worker", daemon=True
        )

    def start(self) -> None:
        """Start the worker and, unless a scheduler already runs elsewhere, the scheduler."""
        self.worker.start()
        if self.lock.try_acquire():
            self.scheduler = build_scheduler(self.app, BackgroundScheduler, self.lock)
            self.scheduler.start()
        else:
            log.info("another scheduler is running: this process only runs a worker")

    def stop(self) -> None:
        """Stop both (at exit, or in tests)."""
        self.stop_event.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.worker.join(timeout=30)
        self.lock.release()


def start_in_process(app) -> InProcess:
    """Start the scheduler and a worker in this process, once per app (a second call returns the first)."""
    with _start_guard:
        running = app.extensions.get("lms_background")
        if running is None:
            running = InProcess(app)
            running.start()
            app.extensions["lms_background"] = running
            atexit.register(running.stop)
    return running
