"""Every write about API tokens: creating, revoking, and noting when a token was last used."""

import secrets
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from .. import audit
from ..auth.services import token_digest
from ..database import begin_write, utcnow
from ..extensions import db
from ..models import ApiToken

TOKEN_MARK = "pwy"  # noqa: S105  (the visible start of every token, not a secret)
MAX_DAYS = 365
NAME_MAX_LENGTH = 120
# Writing last_used_at on every request would turn each API read into a write.
USE_RECORD_INTERVAL = timedelta(minutes=1)


class TokenError(ValueError):
    """A token request that cannot be granted; ``message`` is a lazy translated string for the person."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def token_state(token: ApiToken) -> dict:
    """What the audit chain records about a token (never its secret or hash)."""
    return {
        "name": token.name,
        "prefix": token.prefix,
        "scopes": token.scopes,
        "expires_at": token.expires_at,
        "revoked_at": token.revoked_at,
    }


def create_token(user, *, name: str, scopes, days: int, known_scopes) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the secret ``pwy_<prefix>_<secret>``, shown only once.

    ``known_scopes`` is the scope registry; an unknown scope, an empty name or a lifetime outside
    1..365 days raises :class:`TokenError` and nothing is written. Only the SHA-256 of the secret is stored.
    """
    name = (name or "").strip()
    wanted = sorted(set(scopes or ()))
    if not name or len(name) > NAME_MAX_LENGTH:
        raise TokenError(_l("Give the token a name of up to %(max)s characters.", max=NAME_MAX_LENGTH))
    if not wanted:
        raise TokenError(_l("Choose at least one scope."))
    unknown = [scope for scope in wanted if scope not in known_scopes]
    if unknown:
        raise TokenError(_l("Unknown scope: %(scopes)s.", scopes=", ".join(unknown)))
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise TokenError(_l("A token can last from 1 to %(max)s days.", max=MAX_DAYS))
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_MARK}_{prefix}_{secrets.token_urlsafe(32)}"
    begin_write()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=token_digest(secret),
        prefix=prefix,
        scopes=" ".join(wanted),
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    audit.append("api.token_created", token, subject=user, after=token_state(token))
    db.session.commit()
    return token, secret


def revoke_token(token: ApiToken) -> None:
    """Revoke a token at once; revoking an already revoked token changes nothing."""
    if token.revoked_at is not None:
        return
    begin_write()
    before = token_state(token)
    token.revoked_at = utcnow()
    audit.append("api.token_revoked", token, subject=token.user, before=before, after=token_state(token))
    db.session.commit()


def record_use(token: ApiToken) -> None:
    """Note that the token was used, at most once a minute (not audited: it is bookkeeping, not a change)."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < USE_RECORD_INTERVAL:
        return
    token_id = token.id
    begin_write()
    db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    db.session.commit()
