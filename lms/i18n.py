"""Languages: the locale for each request, and the BCP 47 form pages use in ``lang``."""

import functools

import flask
import flask_babel
from babel import Locale
from babel.support import Translations
from flask import current_app, g, has_request_context, request, session
from flask_login import current_user
from jinja2.ext import _make_new_gettext, _make_new_ngettext
from wtforms.i18n import messages_path

LANGUAGE_NAMES = {
    "en": "English",
    "mk": "Македонски",
    "sq": "Shqip",
    "sr": "Српски",
    "sr_Latn": "Srpski",
    "sl": "Slovenščina",
    "ro": "Română",
}


def bcp47(locale_code: str) -> str:
    """``sr_Latn`` -> ``sr-Latn``: the form HTML's ``lang`` attribute takes."""
    return locale_code.replace("_", "-")


def match_accept_language(header_values, supported) -> str | None:
    """The best supported locale for an Accept-Language list, trying each tag and then its shorter prefixes.

    ``sr-Latn-RS`` gets ``sr_Latn``; ``sr-RS`` gets ``sr`` (Cyrillic); ``mk-MK`` gets ``mk``.
    """
    by_tag = {bcp47(code).lower(): code for code in supported}
    for value, _quality in header_values:
        parts = value.lower().replace("_", "-").split("-")
        while parts:
            code = by_tag.get("-".join(parts))
            if code:
                return code
            parts.pop()
    return None


@functools.cache
def _locale(code: str) -> Locale:
    # Flask-Babel parses the selector's answer on every request unless it is a Locale already.
    return Locale.parse(code)


def select_locale() -> Locale:
    """The profile's language, else the switcher's choice, else Accept-Language, else the default."""
    if not has_request_context():
        return _locale(current_app.config["BABEL_DEFAULT_LOCALE"])  # CLI commands, scheduler and worker
    supported = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return _locale(current_user.locale)
    chosen = session.get("locale")
    if chosen in supported:
        return _locale(chosen)
    return _locale(
        match_accept_language(request.accept_languages, supported) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


class RequestDomain(flask_babel.Domain):
    """Flask-Babel's message domain, looking the page's catalogue up once per request instead of once per string.

    Flask-Babel finds the locale, formats its identifier and looks the catalogue up on every ``gettext``; a page
    translating a few hundred strings spent milliseconds on that. The catalogue is kept on ``g`` with the locale
    object it was found for, and ``force_locale`` and ``refresh`` replace that object, so they still switch it.
    """

    def get_translations(self):
        """The current locale's catalogue (cached for the request)."""
        locale = flask_babel.get_locale()
        if locale is None:
            return super().get_translations()
        cached = g.get("lms_translations")
        if cached is None or cached[0] is not locale or cached[1] is not self:
            cached = g.lms_translations = (locale, self, super().get_translations())
        return cached[2]


class Babel(flask_babel.Babel):
    """Flask-Babel with ``RequestDomain`` as the default domain."""

    @functools.cached_property
    def domain_instance(self):
        """The message domain for the translations."""
        return RequestDomain(domain=self.domain)


def template_gettext() -> dict:
    """``gettext`` and ``ngettext`` for one page, bound to its catalogue (a context processor's values).

    Templates' ``_()`` otherwise goes through Flask-Babel's look-up for every string; Jinja's own newstyle
    wrappers keep the escaping and ``%(name)s`` filling exactly as before.
    """
    translations = flask_babel.get_translations()
    return {"gettext": _make_new_gettext(translations.ugettext), "ngettext": _make_new_ngettext(translations.ungettext)}


@functools.cache
def _wtforms_catalogue(locale: str):
    return Translations.load(messages_path(), [locale], domain="wtforms")


class SessionInterface(flask.sessions.SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per secret key instead of twice a
    request (it holds no per-request state)."""

    def get_signing_serializer(self, app):
        """The serializer for the app's current secret key (None without one, as Flask's)."""
        cached = app.extensions.get("lms_session_serializer")
        if cached is None or cached[0] != app.secret_key:
            cached = app.extensions["lms_session_serializer"] = (app.secret_key, super().get_signing_serializer(app))
        return cached[1]


class Request(flask.Request):
    """Flask's request, with WTForms' own messages for the page's language from a per-process cache."""

    @property
    def wtforms_translations(self):
        """Read by Flask-WTF, which otherwise loads WTForms' catalogue from disk on every request with a form (an
        unlabelled field such as the CSRF token translates its default label, so that is every form)."""
        return _wtforms_catalogue(str(flask_babel.get_locale()))
