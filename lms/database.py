"""Database behaviour shared by every part: SQLite pragmas, write transactions, time helpers."""

import re
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

WRITE_OPTION = "lms_write"
BOOKKEEPING_OPTION = "lms_bookkeeping"  # a transaction writing only what no page shows: the generation stays
GENERATION_TABLE = "lms_data_generation"
# Bookkeeping that no cached page shows and that changes all day (session touches, task leases, mail, the
# append-only audit log, whose every event accompanies a change to another table): writes to these alone
# leave the data generation where it is.
BOOKKEEPING_TABLES = frozenset(
    {
        GENERATION_TABLE,
        "alembic_version",
        "lms_auth_session",
        "lms_task",
        "lms_outbox",
        "lms_audit_event",
        "lms_audit_payload",
        "lms_audit_head",
        "lms_audit_seal",
    }
)
_WRITE_STATEMENT = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[\"`]?(\w+)", re.IGNORECASE)
_CHANGED = "lms_data_changed"


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    """WAL, foreign keys and a busy timeout on every SQLite connection; we issue BEGIN ourselves."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    """Writers begin with BEGIN IMMEDIATE so that concurrent writers wait instead of failing."""
    if conn.dialect.name == "sqlite":
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


@event.listens_for(Engine, "after_cursor_execute")
def _note_data_change(conn, cursor, statement, parameters, context, executemany):
    """Remember on the connection that its transaction changed data (ORM, Core or raw SQL alike)."""
    write = _WRITE_STATEMENT.match(statement)
    bookkeeping = conn.get_execution_options().get(BOOKKEEPING_OPTION)
    if write and not bookkeeping and write.group(1).lower() not in BOOKKEEPING_TABLES:
        conn.info[_CHANGED] = True


@event.listens_for(Engine, "commit")
def _advance_generation(conn):
    """A transaction that changed data moves the generation on as its last statement, so the new value and
    the change become visible together, and the row is locked only for the moment before the commit."""
    if conn.info.pop(_CHANGED, False):
        conn.exec_driver_sql(f"UPDATE {GENERATION_TABLE} SET value = value + 1 WHERE id = 1")


@event.listens_for(Engine, "begin")
@event.listens_for(Engine, "rollback")
def _forget_data_change(conn):
    """Each transaction starts unchanged; rolled-back changes never happened."""
    conn.info.pop(_CHANGED, None)


def begin_write(session=None, *, bookkeeping: bool = False):
    """Start (or keep) the write transaction a service runs in.

    On SQLite a read transaction cannot safely be upgraded to a write once another writer has
    committed, so a read-only transaction still open is ended and a new one begun with
    BEGIN IMMEDIATE. On PostgreSQL the current transaction simply continues.

    ``bookkeeping=True`` starts a transaction of its own whose writes no page shows (the scheduler's
    heartbeat): committing it leaves the data generation, and so the page cache, as it is.
    """
    session = session or db.session()
    if bookkeeping:
        if session.in_transaction():
            session.commit()
        options = {BOOKKEEPING_OPTION: True}
        if session.get_bind().dialect.name == "sqlite":
            options[WRITE_OPTION] = True
        session.connection(execution_options=options)
        return
    if session.get_bind().dialect.name != "sqlite":
        return
    if session.in_transaction():
        if session.connection().get_execution_options().get(WRITE_OPTION):
            return
        if session.new or session.dirty or session.deleted:
            return  # changes already queued: they commit together in this transaction
        session.commit()
    session.connection(execution_options={WRITE_OPTION: True})


def utcnow() -> datetime:
    """The current time in UTC, naive, as every timestamp column stores it."""
    return datetime.now(UTC).replace(tzinfo=None)
