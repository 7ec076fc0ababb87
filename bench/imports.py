"""The staff import of issue 4: rows/s of an organisation manager importing staff from a spreadsheet export.

The file is what organisations send: Windows-1251, semicolons, names in Cyrillic and Latin. It is
imported into a demo organisation, in-process, through the catalogue's import service, and timed whole
(parsing, checking every row, writing, auditing, committing).
"""

import importlib
import time

from sqlalchemy import func, select

from .report import Row
from .servers import log
from .site import Site

# The one place to change once the catalogue has its staff import: "module:function".
IMPORT_SERVICE = "courses.catalogue.imports:import_staff"
ORGANISATION = "Employment Service Agency – Centre Skopje"
MANAGER = "orgmgr.esa"


def staff_file(rows: int, cohort: str) -> bytes:
    """``rows`` distinct staff members for ``cohort`` as a Windows-1251, semicolon-separated file with a header.

    A third have an e-mail address, a third a username, a third only their name (a username is made up).
    """
    lines = ["Име;Презиме;Е-пошта;Корисничко име;Телефон;Група"]
    for number in range(rows):
        email = f"staff{number}@esa.example" if number % 3 == 0 else ""
        username = f"bench.staff{number}" if number % 3 == 1 else ""
        lines.append(f"Стефан;Петровски {number};{email};{username};+38970{number:06d};{cohort}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def _service():
    module_name, function_name = IMPORT_SERVICE.split(":")
    try:
        return getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError):
        return None


def measure(site: Site, rows: int) -> list[Row]:
    """Import ``rows`` generated staff into a demo organisation through the catalogue's import service."""
    from courses.catalogue.models import Cohort
    from lms.extensions import db
    from lms.models import Membership, Organisation, User

    what = f"staff import, {rows:,} rows ({site.name})"
    service = _service()
    if service is None:
        return [Row(what, error=f"the catalogue has no staff import service yet ({IMPORT_SERVICE})")]
    with site.app() as app, app.app_context():
        organisation = db.session.execute(select(Organisation).where(Organisation.name == ORGANISATION)).scalar_one()
        manager = db.session.execute(select(User).where(User.username == MANAGER)).scalar_one()
        # A demo cohort open for enrolment: its places fill and the rest of the file joins its waiting list.
        cohort = db.session.execute(select(Cohort.name).where(Cohort.status == "open").order_by(Cohort.id)).scalar()
        data = staff_file(rows, cohort)
        members = select(func.count(Membership.id)).where(
            Membership.scope_type == "organisation", Membership.scope_id == organisation.id
        )
        before = db.session.execute(members).scalar_one()
        db.session.commit()  # the import times its own transaction, not a read left open here
        log(f"staff import of {rows:,} rows")
        started, cpu = time.perf_counter(), time.process_time()
        result = service(organisation, data, None, manager)  # None: the mapping guessed from the header
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        imported = db.session.execute(members).scalar_one() - before
    row = Row(what, figure=rows / elapsed, unit="rows/s",
              note=f"{elapsed:.2f} s for the whole file ({cpu:.2f} s CPU in this process)")  # fmt: skip
    if not result.ok:
        row.error = f"refused: row {result.errors[0].row}: {result.errors[0].message}"
    elif imported != rows:
        row.error = f"{imported} of {rows} staff members were imported"
    return [row]
