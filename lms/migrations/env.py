"""Alembic environment: every plugin's models (enabled or not), batch mode on SQLite, audit triggers kept."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from lms.audit import install_triggers
from lms.plugins import import_all_models

config = context.config
fileConfig(config.config_file_name)
logger = logging.getLogger("alembic.env")

import_all_models()
target_metadata = current_app.extensions["migrate"].db.metadata


def run_migrations_offline():
    """Write SQL instead of running it."""
    context.configure(
        url=current_app.config["SQLALCHEMY_DATABASE_URI"], target_metadata=target_metadata, literal_binds=True
    )
    with context.begin_transaction():
        context.run_migrations()


def _set_sqlite_foreign_keys(connection, on: bool) -> None:
    # PRAGMA foreign_keys only takes effect outside a transaction, so it goes to the driver directly.
    cursor = connection.connection.dbapi_connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    cursor.close()


def run_migrations_online():
    """Run migrations; SQLite batch rebuilds run with foreign keys off, then the audit triggers are recreated."""

    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    connectable = current_app.extensions["migrate"].db.engine
    with connectable.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _set_sqlite_foreign_keys(connection, False)
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                process_revision_directives=process_revision_directives,
                render_as_batch=True,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if connection.dialect.has_table(connection, "lms_audit_event"):
                    install_triggers(connection)
            connection.commit()
        finally:
            if sqlite:
                _set_sqlite_foreign_keys(connection, True)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
