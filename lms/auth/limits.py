"""Sign-in limits: strict per account, loose per address (a whole class may share one address).

The account limit (``LOGIN_LIMIT_ACCOUNT``) counts failed attempts only and is shared by every
sign-in step (password, printed code, authenticator code), so switching pages gains nothing. It is
checked before the attempt, so once it is reached even the right password is refused until the
window passes. The address limit (``LOGIN_LIMIT_ADDRESS``) counts every attempt. Counters live in
the limiter's storage: Redis when ``LMS_REDIS_URL`` is set, so all web nodes share them.
"""

import functools

from flask import current_app, g, request
from flask_login import current_user

from ..extensions import client_address, limiter
from .services import find_account, normalise_phone


def mark_failed() -> None:
    """Count this request against the account's limit (called by a view when an attempt fails)."""
    g.lms_login_failed = True


def _failed(response) -> bool:
    return bool(g.get("lms_login_failed"))


def normalise_identifier(identifier: str) -> str:
    """The typed identifier as compared: lower case, a phone number without separators."""
    identifier = (identifier or "").strip().lower()
    phone = normalise_phone(identifier)
    return phone if phone.lstrip("+").isdigit() else identifier


def _account_key() -> str:
    # One counter per account whichever identifier was typed (username, e-mail or phone); a name
    # that matches no account gets its own counter, so the limit reveals nothing about who exists.
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    identifier = request.form.get("login", "")
    user = find_account(identifier)
    return f"user:{user.id}" if user is not None else f"name:{normalise_identifier(identifier)}"


def _no_account_named() -> bool:
    # A printed code typed without a username names no account; the address limit and the size of
    # the code space protect it instead of a per-account counter a whole class would share.
    return not current_user.is_authenticated and not request.form.get("login", "").strip()


def login_limits(view):
    """Apply the account and address limits to a sign-in view's POST requests."""
    limited = limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_ACCOUNT"],
        scope="login-account",
        key_func=_account_key,
        methods=["POST"],
        deduct_when=_failed,
        exempt_when=_no_account_named,
    )(view)
    return _posts_only(_address_limit(limited), view)


# Each request sends a mail: a few per account and hour keep the page from being used to flood a mailbox.
RESET_LIMIT_ACCOUNT = "3 per hour"


def reset_limits(view):
    """Limit password-reset requests: every request counts, per account and (loosely) per address."""
    limited = limiter.limit(RESET_LIMIT_ACCOUNT, key_func=_account_key, methods=["POST"])(view)
    return _posts_only(_address_limit(limited), view)


def _address_limit(view):
    return limiter.shared_limit(
        lambda: current_app.config["LOGIN_LIMIT_ADDRESS"],
        scope="login-address",
        key_func=client_address,
        methods=["POST"],
    )(view)


def _posts_only(limited, view):
    """Only POST requests go through the limiter: every limit here exempts GET, yet resolving that costs each
    showing of a sign-in page as much as a database query."""

    @functools.wraps(view)
    def dispatch(*args, **kwargs):
        return limited(*args, **kwargs) if request.method == "POST" else view(*args, **kwargs)

    return dispatch


def init_app(app) -> None:
    """Bind the limiter, keeping only the per-request work these POST-only limits need.

    Only the sign-in views carry limits, and their decorators check them: with no default or application
    limits the limiter's own before_request check evaluates nothing, and its after_request hook counts the
    conditional hits (failed sign-ins, POST only) and would add headers, which are off; on every other request
    both only cost time.
    """
    limiter.init_app(app)
    if limiter.limit_manager.default_limits or limiter.limit_manager.application_limits:
        return
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    hooks = app.after_request_funcs[None]
    for index, hook in enumerate(hooks):
        if getattr(hook, "func", None) is getattr(type(limiter), "_Limiter__inject_headers", object()):
            hooks[index] = _posts_only(hook, lambda response: response)
