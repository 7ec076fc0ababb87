"""Password rules: 8 to 128 characters, not a common password; hashing with scrypt."""

from functools import lru_cache

from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 8
MAX_LENGTH = 128


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, username: str = "", email: str | None = None):
    """A translated reason the password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return _l("Use at least %(num)d characters.", num=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("Use at most %(num)d characters.", num=MAX_LENGTH)
    lowered = password.lower()
    if lowered in _common_passwords() or lowered.strip("0123456789!.") in _common_passwords():
        return _l("This password is too common. Choose one that is harder to guess.")
    personal = {username.lower(), (email or "").lower(), (email or "").split("@")[0].lower()} - {""}
    if lowered in personal:
        return _l("The password must not be your username or e-mail address.")
    return None


def hash_password(password: str) -> str:
    """A salted scrypt hash of the password."""
    return generate_password_hash(password, method="scrypt")


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; always False for accounts without a password."""
    return bool(password_hash) and check_password_hash(password_hash, password)
