"""Rendered pages kept for a short while in each process, and only while the site's data is unchanged.

A busy page (a trainer's roster of a hundred learners, a learner's start page) is rendered again only when
something was committed since it was rendered (the data generation, moved on by ``lms.database`` with every
change) or when it is older than ``PAGE_CACHE_SECONDS``, which bounds what the passing of time alone changes
(a session that has ended, a membership that has expired). Authorisation runs on every request before the
cache is consulted, and the key holds the person, the page's full path and the language, so nobody is ever
served a page rendered for someone else. Pages showing flashed messages are neither served from the cache nor
kept in it. The form token in a kept page is swapped for the token of the session that asks for it.
"""

import functools
import secrets
import threading
import time
from collections import OrderedDict

from flask import current_app, g, request, session
from flask.globals import request_ctx
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from .extensions import db
from .models import DataGeneration

EXTENSION = "lms_page_cache"
_TOKEN_PLACEHOLDER = "lms-form-token-" + secrets.token_hex(16)
# The generation belongs with the signed-in person's session row (lms.auth.services), read in the same query;
# an anonymous page that depends on data reads it on its own.
GENERATION = select(DataGeneration.value).where(DataGeneration.id == 1).scalar_subquery()
_GENERATION_QUERY = select(GENERATION)


class PageCache:
    """A bounded, least-recently-used map of page keys to HTML, each entry valid for ``seconds``."""

    def __init__(self, seconds: float, entries: int):
        self.seconds = seconds
        self.entries = entries
        self._pages: OrderedDict[tuple, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()  # `flask run` serves requests on threads

    def get(self, key: tuple) -> str | None:
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

    def put(self, key: tuple, html: str) -> None:
        """Keep a page, forgetting the least recently used one when full."""
        with self._lock:
            self._pages[key] = (time.monotonic() + self.seconds, html)
            self._pages.move_to_end(key)
            while len(self._pages) > self.entries:
                self._pages.popitem(last=False)


def init_app(app) -> None:
    """Give the app its page cache, unless ``PAGE_CACHE_SECONDS`` is 0."""
    if app.config["PAGE_CACHE_SECONDS"] > 0:
        app.extensions[EXTENSION] = PageCache(app.config["PAGE_CACHE_SECONDS"], app.config["PAGE_CACHE_ENTRIES"])


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
            return html
        return html.replace(_TOKEN_PLACEHOLDER, generate_csrf()) if _TOKEN_PLACEHOLDER in html else html

    return wrapper
