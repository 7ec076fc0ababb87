"""Security headers on every response, and the one rule for where ``next`` may send a browser."""

import re
from urllib.parse import urlsplit

from flask import current_app, request, url_for

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# Only a path on this site: one leading slash, then no slash or backslash, and nothing a browser would strip.
_SAFE_PATH = re.compile(r"^/(?![/\\])[^\\\x00-\x20\x7f]*$")


def safe_next(target: str | None, default_endpoint: str = "core.dashboard") -> str:
    """``target`` when it is a path on this site, else the default page: ``next`` is never an open redirect."""
    if target and _SAFE_PATH.match(target):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for(default_endpoint)


SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
NO_STORE = ("Cache-Control", "no-store")


def set_security_headers(response):
    """CSP without unsafe-inline, no framing, no sniffing, a strict referrer; HSTS in production; pages (not
    static files) are not stored by browsers or proxies. A header the view set itself is kept."""
    wanted = list(SECURITY_HEADERS)
    if current_app.config["ENV"] == "production":
        wanted.append(HSTS)
    if request.endpoint and not request.endpoint.endswith("static"):
        wanted.append(NO_STORE)
    present = {name.lower() for name, _value in response.headers.items()}
    response.headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
    return response
