"""The scheduler election (one at a time, a second takes over), the commands, and background work in the web process."""

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lms import create_app, scheduler, tasks
from lms.extensions import db
from lms.health import HEARTBEAT_KEY
from lms.models import Setting
from tests.lms.test_tasks import add_handlers, reload

ROOT = Path(__file__).resolve().parents[2]


def heartbeat_value(app):
    with app.app_context():
        db.session.rollback()
        setting = db.session.get(Setting, HEARTBEAT_KEY)
        return setting.value if setting else None


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return result


def _hold_lock(config, held):
    lock = scheduler.SchedulerLock(create_app(config))
    assert lock.try_acquire()
    held.set()
    time.sleep(600)


def test_second_scheduler_waits_and_takes_over_when_the_first_dies(app, app_config):
    context = multiprocessing.get_context("fork")
    held = context.Event()
    first = context.Process(target=_hold_lock, args=(app_config, held))
    first.start()
    assert held.wait(30)
    second = scheduler.SchedulerLock(app)
    try:
        assert not second.try_acquire() and not second.held()
        os.kill(first.pid, signal.SIGKILL)
        first.join()
        give_up = threading.Event()
        timer = threading.Timer(20, give_up.set)
        timer.start()
        try:
            assert second.acquire(give_up, poll_seconds=0.1)
        finally:
            timer.cancel()
        assert second.held()
    finally:
        second.release()
    assert not second.held()


def test_released_lock_can_be_taken_again_in_the_same_process(app):
    first, second = scheduler.SchedulerLock(app), scheduler.SchedulerLock(app)
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def _command(app_config, *args):
    env = {
        **os.environ,
        "FLASK_APP": "app",
        "LMS_ENV": "testing",
        "LMS_SECRET_KEY": app_config["SECRET_KEY"],
        "LMS_DATABASE_URL": app_config["DATABASE_URL"],
        "LMS_STORAGE": app_config["STORAGE"],
        "LMS_AUDIT_SIGNING_KEY": app_config["AUDIT_SIGNING_KEY"],
        "LMS_SCHEDULER_POLL_SECONDS": "0.2",
        "LMS_RUN_BACKGROUND": "false",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "lms", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _read_line(process, expected, seconds=30):
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if expected in line:
            return
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"{expected!r} not printed; got {''.join(seen)!r}")


def test_scheduler_command_beats_and_a_second_one_takes_over_on_sigterm(app, app_config):
    first = _command(app_config, "scheduler")
    second = None
    try:
        _read_line(first, "Scheduler running.")
        first_beat = wait_for(lambda: heartbeat_value(app))
        second = _command(app_config, "scheduler")
        _read_line(second, "Another scheduler is running; waiting to take over.")
        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0
        _read_line(second, "Scheduler running.")
        assert wait_for(lambda: heartbeat_value(app) != first_beat)
        age = datetime.now(UTC) - datetime.fromisoformat(heartbeat_value(app))
        assert age.total_seconds() < 30
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


def test_worker_command_stops_gracefully_on_sigterm(app_config):
    worker = _command(app_config, "worker")
    try:
        _read_line(worker, "running.")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
        assert "stopped." in worker.stdout.read()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


@pytest.fixture
def background_app(app_config):
    app_config["RUN_BACKGROUND"] = True
    application = create_app(app_config)
    yield application
    application.extensions["lms_background"].stop()
    with application.app_context():
        db.engine.dispose()


def test_web_process_runs_scheduler_and_worker_once(background_app):
    add_handlers(background_app)
    running = background_app.extensions["lms_background"]
    assert scheduler.start_in_process(background_app) is running
    assert running.scheduler is not None and running.worker.is_alive()
    assert wait_for(lambda: heartbeat_value(background_app))
    with background_app.app_context():
        task = tasks.enqueue("test.export", {"who": "Mira"})
        db.session.commit()
        public_id = task.public_id
        assert wait_for(lambda: reload(public_id).status == "done")
