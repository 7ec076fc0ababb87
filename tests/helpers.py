"""Helpers shared by tests: people with roles, signing in through the real form, CSRF tokens."""

import re

from lms.auth.passwords import hash_password
from lms.extensions import db
from lms.models import Membership, User

DEFAULT_PASSWORD = "correct horse battery staple"
_PASSWORD_HASH_CACHE: dict[str, str] = {}


def create_user(username, *, roles=(), email=None, phone=None, password=DEFAULT_PASSWORD, **fields) -> User:
    """A committed user holding ``roles``: ``(role, scope_type, scope_id)`` triples."""
    if password not in _PASSWORD_HASH_CACHE:
        _PASSWORD_HASH_CACHE[password] = hash_password(password)
    user = User(
        username=username,
        email=email,
        phone=phone,
        password_hash=_PASSWORD_HASH_CACHE[password],
        first_name=fields.pop("first_name", username.title()),
        last_name=fields.pop("last_name", "Test"),
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    for role, scope_type, scope_id in roles:
        db.session.add(Membership(user_id=user.id, role=role, scope_type=scope_type, scope_id=scope_id))
    db.session.commit()
    db.session.refresh(user)
    db.session.expunge(user)  # usable after the context ends, as a record of what was created
    return user


def csrf_token(client, path) -> str:
    """The CSRF token of the form on ``path``."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login_as(client, user_or_login, password=DEFAULT_PASSWORD):
    """Sign in through the login form, as a person would."""
    login = user_or_login if isinstance(user_or_login, str) else user_or_login.username
    token = csrf_token(client, "/auth/login")
    return client.post("/auth/login", data={"login": login, "password": password, "csrf_token": token})


def logout(client):
    """Sign out through the header's form."""
    token = csrf_token(client, "/")
    return client.post("/auth/logout", data={"csrf_token": token})
