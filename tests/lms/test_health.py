"""/healthz: the database, the scheduler's heartbeat (ok, stale, never) and the queue depth."""

from datetime import UTC, datetime, timedelta

from lms import create_app, scheduler, tasks
from lms.extensions import db
from lms.health import HEARTBEAT_KEY
from lms.models import Setting
from tests.lms.test_tasks import add_handlers


def test_fresh_site_reports_no_scheduler_yet_and_an_empty_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"database": "ok", "scheduler": "never", "scheduler_heartbeat": None, "queue_depth": 0}


def test_heartbeat_is_ok_then_stale(app, client):
    with app.app_context():
        scheduler.heartbeat()
    report = client.get("/healthz").json
    assert report["scheduler"] == "ok" and report["scheduler_heartbeat"]
    with app.app_context():
        old = datetime.now(UTC) - timedelta(minutes=10)
        db.session.get(Setting, HEARTBEAT_KEY).value = old.isoformat()
        db.session.commit()
    assert client.get("/healthz").json["scheduler"] == "stale"


def test_queue_depth_counts_tasks_waiting(app, client):
    add_handlers(app)
    with app.app_context():
        for who in ("Ana", "Boris", "Cvetanka"):
            tasks.enqueue("test.export", {"who": who})
        db.session.commit()
        tasks.run_one("worker-1")
    assert client.get("/healthz").json["queue_depth"] == 2


def test_unreachable_database_answers_503(app_config, tmp_path):
    app_config["DATABASE_URL"] = f"sqlite:///{tmp_path}/no/such/dir/lms.db"
    response = create_app(app_config).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "error"
