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


def staff_file(rows: int) -> bytes:
    """``rows`` distinct staff members as a Windows-1251, semicolon-separated file with a header."""
    lines = ["first_name;last_name;first_name_alt;last_name_alt;username;email;phone"]
    for number in range(rows):
        lines.append(
            f"Stefan;Petrovski {number};Стефан;Петровски {number};bench.staff{number};"
            f"staff{number}@esa.example;+38970{number:06d}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def _service():
    module_name, function_name = IMPORT_SERVICE.split(":")
    try:
        return getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError):
        return None


def measure(site: Site, rows: int) -> list[Row]:
    """Import ``rows`` generated staff into a demo organisation through the catalogue's import service."""
    from lms.extensions import db
    from lms.models import Membership, Organisation, User

    what = f"staff import, {rows:,} rows (SQLite)"
    service = _service()
    if service is None:
        return [Row(what, error=f"the catalogue has no staff import service yet ({IMPORT_SERVICE})")]
    data = staff_file(rows)
    with site.app() as app, app.app_context():
        organisation = db.session.execute(select(Organisation).where(Organisation.name == ORGANISATION)).scalar_one()
        manager = db.session.execute(select(User).where(User.username == MANAGER)).scalar_one()
        members = select(func.count(Membership.id)).where(
            Membership.scope_type == "organisation", Membership.scope_id == organisation.id
        )
        before = db.session.execute(members).scalar_one()
        db.session.commit()  # the import times its own transaction, not a read left open here
        log(f"staff import of {rows:,} rows")
        started = time.perf_counter()
        service(organisation, data, by=manager)  # adapt this call to the service's signature when it lands
        elapsed = time.perf_counter() - started
        imported = db.session.execute(members).scalar_one() - before
    row = Row(what, figure=rows / elapsed, unit="rows/s", note=f"{elapsed:.2f} s for the whole file")
    if imported != rows:
        row.error = f"{imported} of {rows} staff members were imported"
    return [row]
