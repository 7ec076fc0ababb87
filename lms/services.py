"""Core writes that belong to no sub-package: profile preferences."""

from . import audit
from .database import begin_write
from .extensions import db


def set_locale(user, locale: str) -> None:
    """Save the person's preferred language to their profile."""
    begin_write()
    before = {"locale": user.locale}
    user.locale = locale
    audit.append("user.locale_changed", user, subject=user, before=before, after={"locale": locale})
    db.session.commit()
