"""Organisation B's objects for the core's task routes (see tests/tenant_fixtures.py)."""

from lms import tasks
from lms.database import utcnow
from lms.extensions import db
from lms.models import Task
from tests.tenant_fixtures import tenant_fixture


@tenant_fixture("public_id")
def finished_task_of_b(world):
    """A finished export that organisation B's member asked for, with its result file in storage."""
    task = Task(
        name="test.export",
        created_by_id=world.b.people["member"].id,
        scope_type="organisation",
        scope_id=world.b.organisation.id,
        status=tasks.DONE,
        progress=100,
        finished_at=utcnow(),
    )
    db.session.add(task)
    db.session.flush()
    path = tasks.result_file(task, "bravo-people.csv")
    path.write_text("Bravo people export\n", encoding="utf-8")
    task.result_path = str(path.relative_to(tasks.storage_root()))
    db.session.commit()
    world.b.secrets.add("Bravo people export")
    return task.public_id
