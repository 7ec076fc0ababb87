"""Database behaviour shared by every part: SQLite pragmas, write transactions, time helpers."""

from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

WRITE_OPTION = "lms_write"


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


def begin_write(session=None):
    """Start (or keep) the write transaction a service runs in.

    On SQLite a read transaction cannot safely be upgraded to a write once another writer has
    committed, so a read-only transaction still open is ended and a new one begun with
    BEGIN IMMEDIATE. On PostgreSQL the current transaction simply continues.
    """
    session = session or db.session()
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
