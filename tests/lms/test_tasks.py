"""Background tasks: enqueue, claim, progress, retries, a worker killed mid-task, result pages and downloads."""

import multiprocessing
import os
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from lms import create_app, tasks
from lms.database import utcnow
from lms.extensions import db
from lms.models import Task
from lms.plugins import hookimpl
from tests.helpers import login_as


def export(task, progress):
    """Writes a small CSV named in its arguments, reporting progress on the way."""
    progress(50, "half way")
    path = tasks.result_file(task, "export.csv")
    path.write_text("name\n" + tasks.arguments(task)["who"] + "\n", encoding="utf-8")
    return path


def broken(task, progress):
    raise RuntimeError("the disk is full")


def slow(task, progress):
    """Hangs on its first attempt (its worker is killed there); finishes on the next."""
    progress(10, "started")
    if task.attempts == 1:
        time.sleep(600)
    path = tasks.result_file(task, "slow.txt")
    path.write_text(f"finished on attempt {task.attempts}")
    return path


def records_worker(task, progress):
    return None


class Handlers:
    """A test plugin adding task handlers."""

    @hookimpl
    def lms_task_handlers(self):
        return {"test.export": export, "test.broken": broken, "test.slow": slow, "test.noop": records_worker}


def add_handlers(application):
    application.extensions["lms_plugins"].register(Handlers(), name="test_task_handlers")
    return application


@pytest.fixture
def task_app(app):
    return add_handlers(app)


def queue(name, args=None, **kwargs):
    task = tasks.enqueue(name, args or {}, **kwargs)
    db.session.commit()
    return task.public_id


def reload(public_id):
    db.session.rollback()  # a fresh snapshot: other sessions and processes change tasks
    return db.session.scalar(select(Task).where(Task.public_id == public_id))


def test_task_runs_and_its_result_is_stored(task_app, app_config):
    with task_app.app_context():
        public_id = queue("test.export", {"who": "Ана Петровска"})
        assert reload(public_id).status == "queued"
        done = tasks.run_one("worker-1")
        assert done.public_id == public_id
        assert (done.status, done.progress, done.attempts, done.claimed_by) == ("done", 100, 1, "worker-1")
        assert done.result_path == f"tasks/{public_id}/export.csv"
        assert (tasks.stored_result(done)).read_text(encoding="utf-8") == "name\nАна Петровска\n"
        assert str(tasks.stored_result(done)).startswith(app_config["STORAGE"])
        assert tasks.run_one("worker-1") is None


def test_unknown_task_is_refused_at_enqueue(task_app):
    with task_app.app_context(), pytest.raises(ValueError, match="no handler"):
        tasks.enqueue("test.nothing", {})


def test_failure_is_retried_after_a_backoff_then_fails(task_app):
    with task_app.app_context():
        public_id = queue("test.broken")
        first = tasks.run_one("worker-1")
        assert first.status == "queued" and first.attempts == 1
        assert first.error == "RuntimeError: the disk is full"
        assert first.run_after > utcnow() + timedelta(seconds=20)
        assert tasks.run_one("worker-1") is None  # not due yet

        for attempt in (2, 3):
            db.session.execute(update(Task).values(run_after=utcnow() - timedelta(seconds=1)))  # time passes
            db.session.commit()
            task = tasks.run_one("worker-1")
            assert task.attempts == attempt
        assert task.status == "failed" and task.finished_at is not None
        assert reload(public_id).error == "RuntimeError: the disk is full"
        db.session.execute(update(Task).values(run_after=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert tasks.run_one("worker-1") is None


def _run_one_in_another_process(config, worker_id):
    application = add_handlers(create_app(config))
    with application.app_context():
        tasks.run_one(worker_id)


def _wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_task_of_a_killed_worker_is_finished_by_another(task_app, app_config):
    app_config["TASK_LEASE_SECONDS"] = 1
    task_app.config["TASK_LEASE_SECONDS"] = 1
    with task_app.app_context():
        public_id = queue("test.slow")
    worker = multiprocessing.get_context("fork").Process(
        target=_run_one_in_another_process, args=(app_config, "doomed-worker")
    )
    worker.start()
    with task_app.app_context():
        _wait_for(lambda: reload(public_id).progress == 10)
        assert reload(public_id).claimed_by == "doomed-worker"
        os.kill(worker.pid, signal.SIGKILL)
        worker.join()
        assert tasks.run_one("second-worker") is None  # the lease has not run out yet
        time.sleep(1.1)
        task = tasks.run_one("second-worker")
        assert (task.public_id, task.status, task.attempts, task.claimed_by) == (
            public_id,
            "done",
            2,
            "second-worker",
        )
        assert tasks.stored_result(task).read_text() == "finished on attempt 2"


def test_worker_that_lost_its_lease_cannot_touch_the_task(task_app):
    task_app.config["TASK_LEASE_SECONDS"] = 0
    with task_app.app_context():
        public_id = queue("test.noop")
        first = tasks.claim("slow-worker")
        stale_progress = tasks.progress_reporter(first.id, "slow-worker")
        time.sleep(0.01)
        second = tasks.claim("fresh-worker")
        assert second.public_id == public_id and second.attempts == 2
        with pytest.raises(tasks.LeaseLost):
            stale_progress(90, "still here")
        assert reload(public_id).claimed_by == "fresh-worker"


def test_dead_worker_on_the_last_attempt_fails_the_task(task_app):
    task_app.config["TASK_LEASE_SECONDS"] = 0
    with task_app.app_context():
        public_id = queue("test.noop")
        db.session.execute(update(Task).values(max_attempts=1))
        db.session.commit()
        tasks.claim("dies-silently")
        time.sleep(0.01)
        assert tasks.claim("another") is None
        task = reload(public_id)
        assert task.status == "failed" and task.error == "The worker stopped before finishing."


def _drain_queue(config, worker_id, start):
    application = add_handlers(create_app(config))
    start.wait(60)
    with application.app_context():
        while tasks.run_one(worker_id) is not None:
            pass


def test_two_workers_never_run_one_task_twice(task_app, app_config):
    with task_app.app_context():
        for _ in range(30):
            tasks.enqueue("test.noop", {})
        db.session.commit()
    context = multiprocessing.get_context("fork")
    start = context.Event()
    workers = [context.Process(target=_drain_queue, args=(app_config, f"w{i}", start)) for i in (1, 2)]
    for process in workers:
        process.start()
    start.set()
    for process in workers:
        process.join(120)
    assert [p.exitcode for p in workers] == [0, 0]
    with task_app.app_context():
        rows = db.session.execute(select(Task.status, Task.attempts, Task.claimed_by)).all()
    assert len(rows) == 30
    assert {(status, attempts) for status, attempts, _ in rows} == {("done", 1)}


# --- pages -----------------------------------------------------------------------------------------


@pytest.fixture
def people(make_user):
    return {
        "creator": make_user("creator"),
        "manager": make_user("manager", roles=[("programme_manager", "programme", 7)]),
        "other_manager": make_user("other", roles=[("programme_manager", "programme", 8)]),
        "learner": make_user("learner", roles=[("learner", "cohort", 1)]),
        "admin": make_user("admin", roles=[("administrator", "site", None)]),
    }


def _queued_export(task_app, creator):
    with task_app.app_context():
        return queue("test.export", {"who": "Mira"}, created_by=creator, scope=("programme", 7))


def test_status_page_refreshes_while_running_and_offers_the_download_when_done(task_app, people):
    public_id = _queued_export(task_app, people["creator"])
    client = task_app.test_client()
    login_as(client, "creator")
    page = client.get(f"/tasks/{public_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="3">' in html and "Waiting to start" in html
    assert client.get(f"/tasks/{public_id}/download").status_code == 404
    with task_app.app_context():
        tasks.run_one("worker-1")
    html = client.get(f"/tasks/{public_id}").get_data(as_text=True)
    assert "http-equiv" not in html and "Finished." in html
    assert f'href="/tasks/{public_id}/download"' in html
    download = client.get(f"/tasks/{public_id}/download")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"] == "attachment; filename=export.csv"
    assert download.get_data(as_text=True) == "name\nMira\n"


def test_failed_task_page_says_so_without_details(task_app, people):
    with task_app.app_context():
        public_id = queue("test.broken", created_by=people["creator"])
        db.session.execute(update(Task).values(max_attempts=1))
        db.session.commit()
        tasks.run_one("worker-1")
    client = task_app.test_client()
    login_as(client, "creator")
    html = client.get(f"/tasks/{public_id}").get_data(as_text=True)
    assert "could not be finished" in html and "disk is full" not in html and "http-equiv" not in html


@pytest.mark.parametrize(
    ("who", "expected"),
    [("creator", 200), ("manager", 200), ("admin", 200), ("other", 403), ("learner", 403)],
)
def test_only_the_creator_scope_managers_and_administrators_may_download(task_app, people, who, expected):
    public_id = _queued_export(task_app, people["creator"])
    with task_app.app_context():
        tasks.run_one("worker-1")
    client = task_app.test_client()
    login_as(client, who)
    assert client.get(f"/tasks/{public_id}").status_code == expected
    assert client.get(f"/tasks/{public_id}/download").status_code == expected


def test_signed_out_visitor_is_sent_to_sign_in_and_unknown_task_is_404(task_app, people):
    public_id = _queued_export(task_app, people["creator"])
    client = task_app.test_client()
    assert "/auth/login" in client.get(f"/tasks/{public_id}/download").headers["Location"]
    login_as(client, "admin")
    assert client.get("/tasks/0123456789abcdef0123456789abcdef").status_code == 404
