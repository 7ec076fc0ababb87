"""Configuration: defaults < ``instance/config.py`` < ``LMS_*`` environment variables."""

import os
import secrets
from pathlib import Path

DEV_SECRET_FILE = "secret_key"  # noqa: S105  (a file name, not a secret)


class Defaults:
    """Settings every deployment starts from; override in ``instance/config.py`` or ``LMS_*``."""

    ENV = "development"  # development | testing | production
    SECRET_KEY = None
    DATABASE_URL = None  # default: SQLite in instance/
    REDIS_URL = None
    STORAGE = None  # default: instance/storage
    PLUGINS = None  # None: every built-in plugin; otherwise a list of plugin names to enable
    LANGUAGES = ["en", "mk", "sq", "sr", "sr_Latn", "sl", "ro"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Europe/Skopje"
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    PROXY_FIX = None  # e.g. {"x_for": 1, "x_proto": 1, "x_host": 1}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "pathways_session"
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead: a form left open all day still submits
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MAIL_FROM = "Pathways <no-reply@pathways.local>"
    SMTP_HOST = None
    SMTP_PORT = 587
    SMTP_USER = None
    SMTP_PASSWORD = None
    SMTP_STARTTLS = True
    MAIL_OUTBOX_DIR = None  # development/testing mail files; default: instance/outbox
    AUDIT_SIGNING_KEY = None  # PEM of an Ed25519 private key; generated into instance/ in development
    REQUIRE_2FA_ROLES = []  # roles whose members must use two-factor authentication
    LOGIN_LIMIT_ACCOUNT = "5 per 5 minutes;20 per day"
    LOGIN_LIMIT_ADDRESS = "200 per 5 minutes"
    API_RATE_LIMIT = "600 per minute"  # per API token, across every /api/v1 route
    TASK_LEASE_SECONDS = 60
    TASK_MAX_ATTEMPTS = 3
    PAGE_CACHE_SECONDS = 60  # how long a rendered page may be served again while no data changed; 0: never
    PAGE_CACHE_ENTRIES = 256  # pages kept per process
    RUN_BACKGROUND = False  # `make run`: scheduler and worker inside the web process
    BASE_URL = "http://127.0.0.1:5000"


def _load_secret(config, instance_path: Path) -> None:
    """Use the configured secret; in development generate one into ``instance/`` on first run."""
    if config.get("SECRET_KEY"):
        if config["ENV"] == "production" and len(str(config["SECRET_KEY"])) < 32:
            raise RuntimeError("LMS_SECRET_KEY is too short for production: use at least 32 random characters.")
        return
    if config["ENV"] == "production":
        raise RuntimeError(
            "Pathways refuses to start in production without a secret key. "
            'Set LMS_SECRET_KEY (for example: python -c "import secrets; print(secrets.token_urlsafe(48))").'
        )
    secret_file = instance_path / DEV_SECRET_FILE
    if not secret_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    config["SECRET_KEY"] = secret_file.read_text().strip()


def database_uri(url: str | None, instance_path: Path) -> str:
    """The SQLAlchemy URI for a configured URL: psycopg 3 for PostgreSQL, SQLite in instance/ by default."""
    if not url:
        return f"sqlite:///{instance_path / 'lms.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def configure(app, overrides: dict | None) -> None:
    """Fill ``app.config`` in order: defaults, instance/config.py, LMS_* environment, explicit overrides."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(prefix="LMS")
    if overrides:
        app.config.update(overrides)
    instance_path = Path(app.instance_path)
    _load_secret(app.config, instance_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config["DATABASE_URL"], instance_path)
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["STORAGE"] = app.config["STORAGE"] or str(instance_path / "storage")
    if app.config["ENV"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config["TESTING"] = app.config["ENV"] == "testing" or app.config.get("TESTING", False)
