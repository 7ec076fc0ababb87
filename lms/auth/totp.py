"""Two-factor authentication with an authenticator app (TOTP, RFC 6238).

The shared secret is stored encrypted with Fernet under a key derived from ``SECRET_KEY`` (HKDF), so
a copy of the database alone does not let anyone generate codes.
"""

import base64
import hmac
import time
from datetime import UTC, datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

ISSUER = "Pathways"
# Which roles may turn on an authenticator: those who see or change much of other people's data.
TOTP_ROLES = frozenset({"administrator", "programme_manager", "auditor"})


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"pathways totp secret").derive(
        str(current_app.config["SECRET_KEY"]).encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def new_secret() -> str:
    """A fresh base32 secret for enrolling an authenticator."""
    return pyotp.random_base32()


def encrypt_secret(secret: str) -> bytes:
    """What the database stores for a secret."""
    return _fernet().encrypt(secret.encode())


def decrypt_secret(stored: bytes | None) -> str | None:
    """The secret behind a stored value (None when absent or not readable with this site's key)."""
    if not stored:
        return None
    try:
        return _fernet().decrypt(bytes(stored)).decode()
    except InvalidToken:
        return None


def normalise_code(code: str | None) -> str:
    """A typed code without spaces, as the app shows it grouped ("123 456")."""
    return "".join((code or "").split())


def matching_step(secret: str | None, code: str | None, for_time: float | None = None) -> int | None:
    """The time step whose code for ``secret`` is ``code``: the current one, or one step of clock drift either
    way; None when it matches none (the caller refuses a step already used, RFC 6238 section 5.2)."""
    code = normalise_code(code)
    if not secret or not code.isdigit() or len(code) != 6:
        return None
    generator = pyotp.TOTP(secret)
    now = time.time() if for_time is None else for_time
    for drift in (0, -1, 1):
        moment = now + drift * generator.interval
        if hmac.compare_digest(generator.at(moment), code):
            return generator.timecode(datetime.fromtimestamp(moment, UTC))
    return None


def provisioning_uri(secret: str, account_name: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The QR code as an inline SVG ``data:`` URI (allowed by the CSP's ``img-src data:``)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, for typing it in by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
