"""Rendered pages kept for a short while in each process, and only while the site's data is unchanged.

A busy page (a trainer's roster of a hundred learners, a learner's start page) is rendered again only when
something was committed since it was rendered (the data generation, moved on by ``lms.database`` with every
change) or when it is older than ``PAGE_CACHE_SECONDS``, which bounds what the passing of time alone changes
(a session that has ended, a membership that has expired). Authorisation runs on every request before the
cache is consulted, and the key holds the person, the page's full path and the language, so nobody is ever
served a page rendered for someone else. Pages showing flashed messages are neither served from the cache nor
kept in it. The form token in a kept page is swapped for the token of the session that asks for it.

``Replay`` goes one step further for the browser that asks again: the very response Flask gave to the same
cookie is answered again, before Flask, after one statement has found the session as it was and the data
generation unchanged, and never after the clock alone changes the person's memberships.
"""

import functools
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, g, request, session
from flask.globals import request_ctx
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import create_engine, select
from sqlalchemy.exc import SQLAlchemyError

from .database import utcnow
from .extensions import db
from .models import DataGeneration

EXTENSION = "lms_page_cache"
REPLAYABLE = "lms.page_cache.replayable"  # WSGI environ key: a cached page Replay may keep for this browser
# What makes two requests the same request for Replay: the cookie names the session (and holds its form token).
REPLAY_KEY = ("PATH_INFO", "QUERY_STRING", "SCRIPT_NAME", "HTTP_HOST", "wsgi.url_scheme", "HTTP_COOKIE",
              "HTTP_ACCEPT_LANGUAGE")  # fmt: skip
_TOKEN_PLACEHOLDER = "lms-form-token-" + secrets.token_hex(16)
# The generation belongs with the signed-in person's session row (lms.auth.services), read in the same query;
# an anonymous page that depends on data reads it on its own.
GENERATION = select(DataGeneration.value).where(DataGeneration.id == 1).scalar_subquery()
_GENERATION_QUERY = select(GENERATION)


@dataclass(frozen=True)
class SignedIn:
    """The session a page is served to, as the session query read it: its token's digest (never the token), whether
    its second factor was passed, and when the clock next changes the person's memberships (None: never)."""

    token_hash: str
    second_factor_done: bool
    grants_change_at: datetime | None


@dataclass(frozen=True)
class _Kept:
    signed_in: SignedIn
    generation: int
    status: str
    headers: tuple
    body: bytes


class PageCache:
    """A bounded, least-recently-used map of keys to pages, each entry valid for ``seconds`` at most."""

    def __init__(self, seconds: float, entries: int):
        self.seconds = seconds
        self.entries = entries
        self._pages: OrderedDict[tuple, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()  # `flask run` serves requests on threads

    def get(self, key: tuple):
        """The page kept under ``key`` while it is fresh, else None."""
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return found[1]

    def put(self, key: tuple, page, expires_at: float | None = None) -> None:
        """Keep a page (until ``expires_at`` on the monotonic clock when sooner), forgetting the least recently
        used one when full."""
        deadline = time.monotonic() + self.seconds
        with self._lock:
            self._pages[key] = (deadline if expires_at is None else min(deadline, expires_at), page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.entries:
                self._pages.popitem(last=False)


def init_app(app) -> None:
    """Give the app its page cache, unless ``PAGE_CACHE_SECONDS`` is 0."""
    if app.config["PAGE_CACHE_SECONDS"] > 0:
        app.extensions[EXTENSION] = PageCache(app.config["PAGE_CACHE_SECONDS"], app.config["PAGE_CACHE_ENTRIES"])


class Replay:
    """WSGI middleware: a browser asking again for a page it was just given gets the same response, without Flask.

    Kept: 200 answers of ``cached_page`` views to a signed-in session that set no cookie, under the path, host,
    cookie and languages asked with. Answered again only after ``still_signed_in(connection, signed_in)`` (one
    statement) returns the generation the page was rendered under, i.e. the session is still open, not due a
    touch, its second factor and account as they were, and no data changed; and only until the clock next
    changes the person's memberships. Everything else goes to Flask, which decides and renders as always.
    """

    def __init__(self, wsgi_app, app, still_signed_in):
        self.wsgi_app = wsgi_app
        self.app = app
        self.still_signed_in = still_signed_in
        self.responses = PageCache(app.config["PAGE_CACHE_SECONDS"], app.config["PAGE_CACHE_ENTRIES"])
        # A pool of its own, without Flask-SQLAlchemy's ping at every checkout (a round trip as dear as the check
        # itself; a connection the server dropped only sends one request on to Flask), and without a transaction
        # around the check's one statement (two more round trips on PostgreSQL). Creating it connects nothing.
        options = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_pre_ping": False, "isolation_level": "AUTOCOMMIT"}
        with app.app_context():
            self.engine = create_engine(db.engine.url, **options)

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "GET" or not environ.get("HTTP_COOKIE"):
            return self.wsgi_app(environ, start_response)
        key = tuple(environ.get(name, "") for name in REPLAY_KEY)
        kept = self.responses.get(key)
        if kept is not None and self._still_current(kept):
            start_response(kept.status, list(kept.headers))
            return [kept.body]
        return self._answer_and_keep(key, environ, start_response)

    def _still_current(self, kept: _Kept) -> bool:
        try:
            with self.engine.connect() as connection:
                return self.still_signed_in(connection, kept.signed_in) == kept.generation
        except SQLAlchemyError:
            return False  # Flask answers instead, with its own error handling and pages

    def _answer_and_keep(self, key, environ, start_response):
        answer = {}

        def recording(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, recording)
        replayable = environ.get(REPLAYABLE)
        sets_cookie = any(name.lower() == "set-cookie" for name, _value in answer.get("headers", ()))
        if replayable is None or not answer.get("status", "").startswith("200") or sets_cookie:
            return body
        try:
            content = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        signed_in, generation, expires_at = replayable
        kept = _Kept(signed_in, generation, answer["status"], tuple(answer["headers"]), content)
        self.responses.put(key, kept, expires_at)
        return [content]


def install_replay(app, still_signed_in) -> None:
    """Put ``Replay`` in front of the app when the page cache is on."""
    if EXTENSION in app.extensions:
        app.wsgi_app = Replay(app.wsgi_app, app, still_signed_in)


def _offer_for_replay(cache: PageCache, generation: int) -> None:
    signed_in = g.get("lms_signed_in")
    if signed_in is None:
        return
    seconds = cache.seconds
    if signed_in.grants_change_at is not None:
        seconds = min(seconds, (signed_in.grants_change_at - utcnow()).total_seconds())
    request.environ[REPLAYABLE] = (signed_in, generation, time.monotonic() + seconds)


def data_generation() -> int | None:
    """The data generation this request sees (None on a database without the counter: nothing is cached)."""
    if "lms_data_generation" not in g:
        g.lms_data_generation = db.session.execute(_GENERATION_QUERY).scalar()
    return g.lms_data_generation


def _showed_flashes() -> bool:
    return bool(getattr(request_ctx, "flashes", None))


def cached_page(view=None, *, data: bool = True):
    """Serve a GET page from the page cache; put it innermost, under ``requires`` and ``login_required``.

    ``data=False`` for a page that shows nothing from the database (the sign-in form): it is kept regardless of
    the data generation. Only pages answered with HTML text are kept; redirects and errors pass through. A
    cached page must not show the bookkeeping tables of ``lms.database.BOOKKEEPING_TABLES``.
    """
    if view is None:
        return functools.partial(cached_page, data=data)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        cache = current_app.extensions.get(EXTENSION)
        if cache is None or request.method != "GET" or session.get("_flashes"):
            return view(*args, **kwargs)
        user = current_user._get_current_object()
        generation = data_generation() if data else 0
        if generation is None:
            return view(*args, **kwargs)
        key = (request.full_path, str(get_locale()), user.get_id() if user.is_authenticated else None, generation)
        html = cache.get(key)
        if html is None:
            html = view(*args, **kwargs)
            if not isinstance(html, str) or _showed_flashes():
                return html
            token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
            cache.put(key, html.replace(token, _TOKEN_PLACEHOLDER) if token else html)
        elif _TOKEN_PLACEHOLDER in html:
            html = html.replace(_TOKEN_PLACEHOLDER, generate_csrf())
        if data:
            _offer_for_replay(cache, generation)
        return html

    return wrapper
