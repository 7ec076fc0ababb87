"""Pages of a background task: its status (refreshing while it runs) and the download of its result."""

from flask import Blueprint, abort, render_template, send_file
from sqlalchemy import select

from .access import requires
from .extensions import db
from .models import Task
from .tasks import DONE, FAILED, stored_result

bp = Blueprint("tasks", __name__, url_prefix="/tasks", template_folder="templates")

REFRESH_SECONDS = 3


def load_task(public_id: str) -> Task | None:
    """The task named by its opaque public id (never the database id)."""
    return db.session.scalar(select(Task).where(Task.public_id == public_id))


@bp.route("/<public_id>")
@requires("tasks.view", load=load_task)
def status(task):
    """Progress of a task; the page reloads itself (a meta refresh, no script) until the task ends."""
    finished = task.status in (DONE, FAILED)
    result = stored_result(task) if task.status == DONE else None
    return render_template(
        "tasks/status.html",
        task=task,
        finished=finished,
        result=result,
        refresh_seconds=None if finished else REFRESH_SECONDS,
    )


@bp.route("/<public_id>/download")
@requires("tasks.download", load=load_task)
def download(task):
    """The task's result file, to the people who may see the task."""
    path = stored_result(task) if task.status == DONE else None
    if path is None:
        abort(404)
    return send_file(path, as_attachment=True, download_name=path.name)
