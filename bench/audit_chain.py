"""``flask lms audit verify`` over a long chain, against selecting the same rows and hashing them in one loop.

The chain is built fast and untimed: rows made with ``lms.audit.canonical_bytes`` and ``hashlib`` and
inserted with ``executemany`` in one transaction, straight into a migrated SQLite file. Then ``verify()``
runs in-process (app context) and the baseline loop runs the same SELECT (same columns, same join, same
streaming) and SHA-256s each row's column bytes; each is timed twice and the faster run counts.
"""

import hashlib
import sqlite3
import time
from datetime import datetime, timedelta
from itertools import cycle
from pathlib import Path

from sqlalchemy import select

from lms.audit import FIELD_SEPARATOR, GENESIS, canonical_bytes, canonical_payload, payload_digest
from lms.models import AuditEvent, AuditPayload

from .report import Row
from .servers import log
from .site import sqlite_site

TARGET = 3.0  # verify ≤ 3× the baseline loop (issue 3)
CHUNK = 50_000
START = datetime(2025, 1, 6, 7, 30)

# What a chain looks like: mostly state changes with an after payload, some with before and after, and
# refusals (failed sign-ins) with none. Only core object types: an event naming a plugin's evidence table
# (an enrolment, an attendance record) would need the row itself, or verify rightly reports it missing.
ACTIONS = (
    ("membership.granted", "lms_membership", None, {"role": "learner", "scope": "cohort", "scope_id": 12}),
    ("user.updated", "lms_user", {"locale": "mk", "phone": None}, {"locale": "sq", "phone": "+38970123456"}),
    ("auth.login_failed", "lms_user", None, None),
    ("organisation.updated", "lms_organisation", {"city": "Skopje"}, {"city": "Tetovo"}),
)


def _events(count: int):
    """Chunks of (event rows, payload rows), each event linked to the one before."""
    actors = [f"{number * 7919:032x}" for number in range(500)]  # 32 characters, like User.pseudonym
    kinds = [
        (action, otype, canonical_payload(before), canonical_payload(after)) for action, otype, before, after in ACTIONS
    ]
    kinds = [(action, otype, b, a, payload_digest(b), payload_digest(a)) for action, otype, b, a in kinds]
    prev, sha256, events, payloads = GENESIS, hashlib.sha256, [], []
    for seq, actor, (action, otype, before, after, bsha, asha) in zip(range(1, count + 1), cycle(actors), cycle(kinds)):
        at = START + timedelta(seconds=seq * 7, microseconds=seq % 1_000_000)
        subject, oid, reason = actor, str(seq // 3), ""
        digest = sha256(
            canonical_bytes(seq, at, actor, subject, action, otype, oid, bsha, asha, reason, prev)
        ).hexdigest()
        # SQLAlchemy stores SQLite datetimes as text with six fractional digits: store them the same way.
        events.append((seq, at.isoformat(" ", "microseconds"), actor, subject, action, otype, oid, bsha, asha,
                       reason, prev, digest))  # fmt: skip
        if before is not None or after is not None:
            payloads.append((seq, before, after))
        prev = digest
        if len(events) == CHUNK:
            yield events, payloads
            events, payloads = [], []
    if events:
        yield events, payloads


def build_chain(database: Path, count: int) -> None:
    """Insert ``count`` linked events (and their payloads) in one transaction, and move the head to the last."""
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        # A throw-away file: no journal, no syncs, and a cache big enough for the two random-key unique
        # indexes (hash, prev_hash), whose inserts otherwise dominate the build.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-500000")
        conn.execute("BEGIN")
        last = GENESIS
        for events, payloads in _events(count):
            conn.executemany(
                "INSERT INTO lms_audit_event (seq, at, actor, subject, action, object_type, object_id, "
                "before_sha256, after_sha256, reason, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                events,
            )
            conn.executemany('INSERT INTO lms_audit_payload (seq, "before", "after") VALUES (?,?,?)', payloads)
            last = events[-1][-1]
        conn.execute("UPDATE lms_audit_head SET seq = ?, hash = ? WHERE id = 1", (count, last))
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")  # as the app runs it
    finally:
        conn.close()


def select_and_hash(conn) -> int:
    """The floor: the rows verify reads, selected and streamed the same way, each row's bytes SHA-256'd."""
    columns = (
        AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.subject, AuditEvent.action,
        AuditEvent.object_type, AuditEvent.object_id, AuditEvent.before_sha256, AuditEvent.after_sha256,
        AuditEvent.reason, AuditEvent.prev_hash, AuditEvent.hash,
        AuditPayload.before, AuditPayload.after, AuditPayload.erased_at,
    )  # fmt: skip
    query = select(*columns).outerjoin(AuditPayload, AuditPayload.seq == AuditEvent.seq).order_by(AuditEvent.seq)
    sha256, join, rows = hashlib.sha256, FIELD_SEPARATOR.join, 0
    for row in conn.execution_options(stream_results=True, yield_per=5000).execute(query):
        sha256(join(map(str, row)).encode()).hexdigest()
        rows += 1
    return rows


def measure(directory: Path, count: int) -> Row:
    """Build the chain, then time ``verify()`` and the baseline loop (best of two each)."""
    from lms.audit import verify
    from lms.extensions import db

    site = sqlite_site(directory, "audit")
    site.migrate()
    log(f"audit: building a chain of {count:,} events (not timed)")
    started = time.perf_counter()
    build_chain(Path(site.database_url.removeprefix("sqlite:///")), count)
    log(f"audit: chain built in {time.perf_counter() - started:.1f} s; timing verify and the baseline loop")
    verify_times, baseline_times = [], []
    with site.app() as app, app.app_context():
        for _ in range(2):
            started = time.perf_counter()
            with db.engine.connect() as conn:
                hashed = select_and_hash(conn)
            baseline_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = verify()
            verify_times.append(time.perf_counter() - started)
    what = f"flask lms audit verify, {count:,} events (SQLite)"
    row = Row(what, figure=min(verify_times), unit="s", baseline=min(baseline_times), target=TARGET,
              higher_is_better=False, note=f"{count / min(verify_times):,.0f} events/s")  # fmt: skip
    if not result.ok or result.events != count or hashed != count:
        row.error = f"verify found {result.events:,} events: {result.first_break or 'count differs'}"
    return row
