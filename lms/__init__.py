"""Pathways LMS core: ``create_app`` builds the application with its enabled plugins."""

import os
from pathlib import Path

from flask import Flask, render_template, request
from flask_babel import gettext as _
from werkzeug.middleware.proxy_fix import ProxyFix

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Application factory: configuration, extensions, plugins, blueprints, headers, error pages, CLI."""
    app = Flask(
        __name__,
        # LMS_INSTANCE_PATH moves keys, demo accounts and instance/config.py elsewhere (benchmarks, parallel copies).
        instance_path=os.environ.get("LMS_INSTANCE_PATH") or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    from .config import configure

    configure(app, config)

    from .i18n import Request, SessionInterface

    app.request_class = Request
    app.session_interface = SessionInterface()
    _init_extensions(app)
    _init_plugins(app)
    _init_request_hooks(app)
    _init_error_pages(app)
    _init_middleware(app)
    if app.config["RUN_BACKGROUND"]:
        from .scheduler import start_in_process

        start_in_process(app)
    return app


def _init_extensions(app: Flask) -> None:
    from . import auth, database, page_cache  # noqa: F401  (database registers the SQLite pragmas)
    from .auth import limits
    from .extensions import babel, csrf, db, login_manager, migrate
    from .i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),  # one catalogue for all plugins
    )
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limits.init_app(app)
    login_manager.init_app(app)
    auth.init_login(app)
    page_cache.init_app(app)


def _init_middleware(app: Flask) -> None:
    from .auth.services import still_signed_in
    from .page_cache import install_replay

    install_replay(app, still_signed_in)
    # Outermost, so that Replay and Flask both see the client's own host and scheme.
    if app.config["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, **app.config["PROXY_FIX"])


def _init_plugins(app: Flask) -> None:
    from .access import requires
    from .plugins import flat, make_manager

    pm = make_manager(app.config)
    app.extensions["lms_plugins"] = pm
    with app.app_context():
        for blueprint in flat(pm.hook.lms_blueprints()):
            app.register_blueprint(blueprint)
        from .cli import lms_group

        for command in flat(pm.hook.lms_cli()):
            lms_group.add_command(command)
        app.cli.add_command(lms_group)
    # Static files are public; naming them keeps "every route names its action" without exceptions.
    for endpoint, view in list(app.view_functions.items()):
        if endpoint == "static" or endpoint.endswith(".static"):
            app.view_functions[endpoint] = requires("site.static")(view)


def _init_request_hooks(app: Flask) -> None:
    from flask_babel import get_locale
    from flask_login import current_user

    from .formatting import register_filters
    from .i18n import LANGUAGE_NAMES, bcp47, template_gettext
    from .navigation import nav_items
    from .security import set_security_headers

    app.after_request(set_security_headers)
    register_filters(app)

    @app.context_processor
    def page_globals():
        locale = str(get_locale())
        return {
            "page_lang": bcp47(locale),
            "current_locale": locale,
            "language_names": {code: LANGUAGE_NAMES[code] for code in app.config["LANGUAGES"]},
            "nav_items": (lambda: nav_items(current_user)),
            **template_gettext(),
        }


def _init_error_pages(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    from .extensions import db

    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You do not have permission to open this page."),
        404: lambda: _("We could not find this page."),
        405: lambda: _("This page cannot be used that way."),
        413: lambda: _("The file is too large."),
        429: lambda: _("Too many attempts. Please wait a few minutes and try again."),
        500: lambda: _("Something went wrong on our side. Please try again later."),
    }

    def render_error(code: int, message: str):
        if request.path.startswith("/api/"):
            return {"error": message, "status": code}, code
        return render_template("error.html", code=code, message=message), code

    for code, message in messages.items():

        def handler(error, code=code, message=message):
            if code == 500:
                db.session.rollback()
            return render_error(code, message())

        app.register_error_handler(code, handler)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, _("This form has expired or was sent from another site. Please try again."))
