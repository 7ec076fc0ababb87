"""Fixtures in the manner of the Flask tutorial: an app per test on a database built by the migrations.

SQLite by default (each test gets a copy of a migrated template file); the real PostgreSQL when
``LMS_TEST_DATABASE_URL`` is set (one database per xdist worker, emptied between tests).
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from lms import create_app
from lms.audit import GENESIS

PG_URL = os.environ.get("LMS_TEST_DATABASE_URL")
SIGNING_KEY = (
    Ed25519PrivateKey.generate()
    .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _postgres_url() -> str:
    """A database of this worker's own on the test server, created on first use."""
    base = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"lms_test_{_worker()}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return re.sub(r"/[^/?]+(\?|$)", f"/{name}\\1", base, count=1)


def base_config(database_url: str, tmp: Path) -> dict:
    """Settings every test app shares."""
    return {
        "ENV": "testing",
        "SECRET_KEY": "test-secret-key-not-for-production-0123456789",
        "DATABASE_URL": database_url,
        "STORAGE": str(tmp / "storage"),
        "AUDIT_SIGNING_KEY": SIGNING_KEY,
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
    }


def _migrate(database_url: str, tmp: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(base_config(database_url, tmp))
    with app.app_context():
        upgrade()
        from lms.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """The migrated schema: a SQLite file to copy, or a PostgreSQL database to empty between tests."""
    tmp = tmp_path_factory.mktemp("db")
    if PG_URL:
        url = _postgres_url()
        _migrate(url, tmp)
        return url
    path = tmp / "template.db"
    _migrate(f"sqlite:///{path}", tmp)
    return path


def _empty_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        tables = [
            name
            for (name,) in conn.execute(
                # The data generation's one row stays: it only ever counts up, which is all a test may rely on.
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename NOT IN ('alembic_version', 'lms_data_generation')"
                )
            )
        ]
        # The audit tables refuse TRUNCATE (their triggers); a superuser's replica role is the way around them.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        conn.execute(text(f"INSERT INTO lms_audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')"))
    engine.dispose()


@pytest.fixture
def database_url(database_template, tmp_path):
    """A fresh, migrated database for one test."""
    if PG_URL:
        _empty_postgres(database_template)
        return database_template
    path = tmp_path / "lms.db"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url, tmp_path):
    """The test app's configuration; tests may change it before using ``app``."""
    return base_config(database_url, tmp_path)


@pytest.fixture
def app(app_config):
    """The application. Requests push their own contexts; use ``with app.app_context():`` to query."""
    application = create_app(app_config)
    yield application
    with application.app_context():
        from lms.extensions import db

        db.engine.dispose()


@pytest.fixture
def client(app):
    """A browser-like test client."""
    return app.test_client()


@pytest.fixture
def make_user(app):
    """Create a user with optional role grants: ``make_user("ana", roles=[("trainer", "cohort", 3)])``."""
    from tests.helpers import create_user

    def _make_user(*args, **kwargs):
        with app.app_context():
            return create_user(*args, **kwargs)

    return _make_user


@pytest.fixture
def login(client):
    """Sign a user in through the real login form; returns the response."""
    from tests.helpers import login_as

    def _login(user_or_login, password="correct horse battery staple", test_client=None):
        return login_as(test_client or client, user_or_login, password)

    return _login
