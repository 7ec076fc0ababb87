"""Throw-away Pathways sites: a migrated database with the demo loaded, and the environment pointing at it.

Everything a site writes (database file, instance folder with keys and demo accounts, storage, outbox)
lives in a temporary directory; on PostgreSQL the site gets the ``lms_bench`` database, dropped after.
"""

import json
import os
import re
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

from lms import ROOT, create_app

from .servers import BIN, request

SECRET_KEY = "bench-secret-key-not-for-production-0123456789"  # noqa: S105  (a throw-away site's key)
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/")
POSTGRES_DATABASE = "lms_bench"


@dataclass
class Site:
    """A database prepared for benchmarking and the ``LMS_*`` environment that serves it."""

    name: str
    database_url: str
    directory: Path

    @property
    def instance(self) -> Path:
        """The site's own instance folder (LMS_INSTANCE_PATH)."""
        return self.directory / "instance"

    @property
    def env(self) -> dict[str, str]:
        """The environment for the site's processes: the caller's, minus any LMS_* setting, plus the site's."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("LMS_")}
        env.update(
            FLASK_APP="app",
            LMS_INSTANCE_PATH=str(self.instance),
            LMS_DATABASE_URL=self.database_url,
            LMS_ENV="development",
            LMS_SECRET_KEY=SECRET_KEY,
            LMS_STORAGE=str(self.directory / "storage"),
            LMS_MAIL_OUTBOX_DIR=str(self.directory / "outbox"),
        )
        return env

    def flask(self, *args: str) -> str:
        """Run ``flask --app app <args>`` against the site; its output."""
        completed = subprocess.run(
            [str(BIN / "flask"), "--app", "app", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if completed.returncode:
            raise RuntimeError(f"flask {' '.join(args)} failed: {(completed.stderr or completed.stdout)[-2000:]}")
        return completed.stdout

    def migrate(self) -> None:
        """Build the schema with the migrations, as a deployment does."""
        self.flask("db", "upgrade")

    def load_demo(self) -> None:
        """``flask lms demo`` against the site."""
        self.flask("lms", "demo")

    def account(self, who: str) -> dict:
        """A demo account by username, else the first one holding the role ``who``."""
        accounts = json.loads((self.instance / "demo-accounts.json").read_text())
        for key in ("username", "role"):
            for entry in accounts:
                if entry[key] == who:
                    return entry
        raise LookupError(f"the demo has no account or role named {who!r}")

    @contextmanager
    def app(self):
        """The Pathways app in this process, configured exactly like the served one."""
        saved = os.environ.copy()
        os.environ.clear()
        os.environ.update(self.env)
        try:
            application = create_app()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        try:
            yield application
        finally:
            from lms.extensions import db

            with application.app_context():
                db.engine.dispose()


def sqlite_site(directory: Path, name: str = "SQLite") -> Site:
    """A site on a SQLite file in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    return Site(name, f"sqlite:///{directory / 'lms.db'}", directory)


def postgres_answers() -> bool:
    """True when the PostgreSQL server takes connections."""
    import psycopg

    try:
        psycopg.connect(POSTGRES_URL + "postgres", connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def _postgres_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL + "postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


@contextmanager
def postgres_site(directory: Path):
    """A site on a fresh ``lms_bench`` database, dropped on the way out."""
    directory.mkdir(parents=True, exist_ok=True)
    _postgres_admin(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)')
    _postgres_admin(f'CREATE DATABASE "{POSTGRES_DATABASE}"')
    try:
        yield Site("PostgreSQL", POSTGRES_URL + POSTGRES_DATABASE, directory)
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)')


def _cookies(headers, jar: dict) -> dict:
    for name, value in headers:
        if name.lower() == "set-cookie":
            for morsel in SimpleCookie(value).values():
                jar[morsel.key] = morsel.value
    return jar


def cookie_header(jar: dict) -> str:
    """A Cookie header for the jar's cookies."""
    return "; ".join(f"{key}={value}" for key, value in jar.items())


def with_set_cookies(cookie: str, headers) -> str:
    """The Cookie header a browser sends next: ``cookie`` updated by a response's Set-Cookie headers."""
    jar = dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)
    return cookie_header(_cookies(headers, jar))


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    for tag in re.findall(r"<input\b[^>]*>", html):
        if re.search(r'\bname="csrf_token"', tag):
            return re.search(r'\bvalue="([^"]*)"', tag).group(1)
    raise LookupError("the page has no CSRF token")


def login_form(html: str, account: dict) -> dict:
    """The sign-in form's fields for a demo account, with the CSRF token of the login page ``html``."""
    return {"login": account["username"], "password": account["password"], "next": "", "csrf_token": csrf_token(html)}


def sign_in(base_url: str, account: dict) -> str:
    """Sign in through the real form of a served site; the Cookie header of the signed-in session."""
    status, headers, html = request(base_url, "/auth/login")
    jar = _cookies(headers, {})
    form = login_form(html, account)
    status, headers, _body = request(base_url, "/auth/login", cookie=cookie_header(jar), form=form)
    location = dict((k.lower(), v) for k, v in headers).get("location", "")
    if status != 302 or "/auth/" in location:
        raise RuntimeError(f"signing in as {account['username']} failed (HTTP {status}, to {location or 'nowhere'})")
    return cookie_header(_cookies(headers, jar))
