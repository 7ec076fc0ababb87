"""Languages: the locale for each request, and the BCP 47 form pages use in ``lang``."""

from flask import current_app, has_request_context, request, session
from flask_login import current_user

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


def select_locale() -> str:
    """The profile's language, else the switcher's choice, else Accept-Language, else the default."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]  # CLI commands, scheduler and worker
    supported = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    return match_accept_language(request.accept_languages, supported) or current_app.config["BABEL_DEFAULT_LOCALE"]
