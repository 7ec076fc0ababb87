"""Run every benchmark in order and print the table; servers and databases are cleaned up whatever happens."""

import os
import signal
import tempfile
import time
import traceback
from pathlib import Path

from . import audit_chain, imports, pages
from .report import Row, render
from .servers import log, wrk_binary
from .site import postgres_answers, postgres_site, sqlite_site


def _setting(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _terminate(signum, frame):
    # SIGTERM (make interrupted, CI timeout) unwinds like Ctrl+C, so every finally block stops its servers.
    raise KeyboardInterrupt


def _section(rows: list[Row], what: str, run) -> None:
    """Run one benchmark; a failure becomes an error row and the others still run."""
    try:
        rows.extend(run())
    except KeyboardInterrupt:
        raise
    except Exception as error:
        traceback.print_exc()
        rows.append(Row(what, error=f"{type(error).__name__}: {error}"))


def main() -> int:
    """Every benchmark, then the table on stdout; exit status 1 when a row errored or missed its target."""
    signal.signal(signal.SIGTERM, _terminate)
    seconds = _setting("BENCH_SECONDS", 10)
    events = int(_setting("BENCH_AUDIT_EVENTS", 1_000_000))
    import_rows = int(_setting("BENCH_IMPORT_ROWS", 1_000))
    wrk_binary()
    started = time.monotonic()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="pathways-bench-") as tmp:
        tmp = Path(tmp)
        sqlite = sqlite_site(tmp / "sqlite")
        _section(rows, "pages (SQLite)", lambda: pages.measure_site(sqlite, seconds, tmp))
        if postgres_answers():

            def on_postgres():
                with postgres_site(tmp / "postgres") as site:
                    found = pages.measure_site(site, seconds, tmp)
                    _section(found, "staff import (PostgreSQL)", lambda: imports.measure(site, import_rows))
                    return found

            _section(rows, "pages (PostgreSQL)", on_postgres)
        else:
            log("PostgreSQL does not answer: SQLite only")
        _section(rows, "staff import", lambda: imports.measure(sqlite, import_rows))
        _section(rows, "audit verify", lambda: [audit_chain.measure(tmp / "audit", events)])
    print(render(rows))
    print(f"\n{len(rows)} rows in {time.monotonic() - started:.0f} s; wrk -t2 -c32 for {seconds:g} s a page; "
          "gunicorn with 2 sync workers on this machine's cores.")  # fmt: skip
    return 0 if all(row.ok for row in rows) else 1
