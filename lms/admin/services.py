"""Every write of the administration pages (people, organisations, role grants), and the queries their lists use."""

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..access import scope_ids
from ..auth.services import normalise_phone, set_active
from ..database import begin_write, utcnow
from ..extensions import db
from ..models import Membership, Organisation, User

USER_FIELDS = ("username", "email", "phone", "first_name", "last_name", "first_name_alt", "last_name_alt", "locale")
ORGANISATION_FIELDS = ("name", "name_alt", "kind", "city", "country", "active")


class AdminError(Exception):
    """A refused change, with a translated message for the page; nothing was written."""


def _state(obj, fields) -> dict:
    return {name: getattr(obj, name) for name in fields}


def clean_user_fields(data: dict) -> dict:
    """Identifiers as stored: e-mail in lower case, phone without separators, empty optional values as None."""
    cleaned = {name: (data.get(name) or "").strip() for name in USER_FIELDS}
    cleaned["email"] = cleaned["email"].lower() or None
    cleaned["phone"] = normalise_phone(cleaned["phone"]) or None
    for name in ("first_name_alt", "last_name_alt", "locale"):
        cleaned[name] = cleaned[name] or None
    return cleaned


def identifier_taken(field: str, value: str | None, *, exclude_id: int | None = None) -> bool:
    """Whether another account already signs in with this username, e-mail address or phone number."""
    if not value:
        return False
    column = getattr(User, field)
    # Phone numbers are compared as stored (without separators); the other identifiers ignore case.
    condition = column == normalise_phone(value) if field == "phone" else func.lower(column) == value.strip().lower()
    query = select(User.id).where(condition)
    if exclude_id is not None:
        query = query.where(User.id != exclude_id)
    return db.session.execute(query.limit(1)).first() is not None


def _commit_or_refuse() -> None:
    # Two administrators may pick the same username at the same moment; the unique index decides.
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise AdminError(_("This username, e-mail address or phone number is already in use.")) from error


def create_user(data: dict, *, organisation: Organisation | None = None) -> User:
    """Create an account (e-mail optional); with ``organisation``, the person also joins it as a member."""
    begin_write()
    fields = clean_user_fields(data)
    user = User(**fields)
    db.session.add(user)
    db.session.flush()
    audit.append("user.created", user, subject=user, after=fields)
    if organisation is not None:
        _add_membership(user, "member", "organisation", organisation.id)
    _commit_or_refuse()
    return user


def update_user(user: User, data: dict) -> None:
    """Change a person's names, identifiers and language."""
    begin_write()
    before = _state(user, USER_FIELDS)
    for name, value in clean_user_fields(data).items():
        setattr(user, name, value)
    audit.append("user.updated", user, subject=user, before=before, after=_state(user, USER_FIELDS))
    _commit_or_refuse()


def set_user_active(user: User, active: bool, *, reason: str, by: User) -> None:
    """Deactivate (every session ends at once) or reactivate an account; nobody deactivates themselves."""
    if not active and user.id == by.id:
        raise AdminError(_("You cannot deactivate your own account."))
    if not active and not (reason or "").strip():
        raise AdminError(_("Give a reason for deactivating the account."))
    set_active(user, active, reason=(reason or "").strip())


def create_organisation(data: dict) -> Organisation:
    """Add an organisation."""
    begin_write()
    organisation = Organisation(**{name: data.get(name) for name in ORGANISATION_FIELDS if name in data})
    db.session.add(organisation)
    db.session.flush()
    audit.append("organisation.created", organisation, after=_state(organisation, ORGANISATION_FIELDS))
    db.session.commit()
    return organisation


def update_organisation(organisation: Organisation, data: dict) -> None:
    """Change an organisation's names, kind, place or whether it is active."""
    begin_write()
    before = _state(organisation, ORGANISATION_FIELDS)
    for name in ORGANISATION_FIELDS:
        if name in data:
            setattr(organisation, name, data[name])
    audit.append("organisation.updated", organisation, before=before, after=_state(organisation, ORGANISATION_FIELDS))
    db.session.commit()


def _membership_state(membership: Membership) -> dict:
    return {
        "role": membership.role,
        "scope_type": membership.scope_type,
        "scope_id": membership.scope_id,
        "valid_from": membership.valid_from,
        "valid_until": membership.valid_until,
    }


def _add_membership(user: User, role, scope_type, scope_id, valid_from=None, valid_until=None) -> Membership:
    scope_id = None if scope_type == "site" else scope_id
    same_scope = Membership.scope_id.is_(None) if scope_id is None else Membership.scope_id == scope_id
    exists = db.session.execute(
        select(Membership.id).where(
            Membership.user_id == user.id,
            Membership.role == role,
            Membership.scope_type == scope_type,
            same_scope,
        )
    ).first()
    if exists:
        db.session.rollback()
        raise AdminError(_("This person already holds that role there."))
    membership = Membership(
        user_id=user.id,
        role=role,
        scope_type=scope_type,
        scope_id=scope_id,
        valid_from=valid_from,
        valid_until=valid_until,
        granted_by_id=_current_user_id(),
    )
    db.session.add(membership)
    db.session.flush()
    audit.append("membership.granted", membership, subject=user, after=_membership_state(membership))
    return membership


def _current_user_id() -> int | None:
    from flask_login import current_user

    return current_user.id if current_user and current_user.is_authenticated else None


def grant_membership(user: User, role: str, scope_type: str, scope_id=None, *, valid_from=None, valid_until=None):
    """Give a person a role in a scope, optionally only between two times (an auditor always needs an end)."""
    if role == "auditor" and valid_until is None:
        raise AdminError(_("An auditor's access needs an end date."))
    if valid_from and valid_until and valid_until <= valid_from:
        raise AdminError(_("The end date must be after the start date."))
    if scope_type == "organisation" and db.session.get(Organisation, scope_id) is None:
        raise AdminError(_("Choose an organisation."))
    begin_write()
    membership = _add_membership(user, role, scope_type, scope_id, valid_from, valid_until)
    db.session.commit()
    return membership


def _active_administrators() -> int:
    now = utcnow()
    return db.session.execute(
        select(func.count(func.distinct(Membership.user_id)))
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.role == "administrator",
            Membership.scope_type == "site",
            User.active.is_(True),
            or_(Membership.valid_until.is_(None), Membership.valid_until > now),
        )
    ).scalar_one()


def revoke_membership(membership: Membership, *, reason: str = "") -> None:
    """Take a role away at once; the last administrator's role cannot be taken away."""
    if membership.role == "administrator" and membership.scope_type == "site" and _active_administrators() <= 1:
        raise AdminError(_("This is the last administrator: give someone else the role first."))
    begin_write()
    user = membership.user
    audit.append(
        "membership.revoked", membership, subject=user, before=_membership_state(membership), reason=reason.strip()
    )
    db.session.delete(membership)
    db.session.commit()


# --- queries for list pages ----------------------------------------------------------------------


def _like_pattern(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def user_search(text: str = "", organisation_id: int | None = None):
    """People whose name (either script), username or e-mail contains ``text``, optionally of one organisation."""
    query = select(User).order_by(func.lower(User.last_name), func.lower(User.first_name), User.id)
    text = (text or "").strip()
    if text:
        columns = (User.first_name, User.last_name, User.first_name_alt, User.last_name_alt, User.username, User.email)
        # SQLite folds the case of ASCII letters only, so Cyrillic is also matched as typed, in lower
        # case and capitalised; PostgreSQL's lower() folds every script.
        patterns = {_like_pattern(variant) for variant in (text.lower(), text, text.capitalize(), text.title())}
        query = query.where(or_(*(func.lower(column).like(p, escape="\\") for column in columns for p in patterns)))
    if organisation_id is not None:
        query = query.where(
            User.id.in_(
                select(Membership.user_id).where(
                    Membership.scope_type == "organisation", Membership.scope_id == organisation_id
                )
            )
        )
    return query


def organisations_for(user, action: str):
    """The organisations in which ``user`` may perform ``action``, filtered in SQL."""
    query = select(Organisation).order_by(func.lower(Organisation.name), Organisation.id)
    ids = scope_ids(user, action, "organisation")
    if ids is not None:
        query = query.where(Organisation.id.in_(ids))
    return query


def organisation_people(organisation: Organisation) -> list[tuple[User, list[str]]]:
    """The people holding any role in an organisation, each with their roles there."""
    rows = db.session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.scope_type == "organisation", Membership.scope_id == organisation.id)
        .order_by(func.lower(User.last_name), func.lower(User.first_name), User.id)
    ).all()
    people: dict[int, tuple[User, list[str]]] = {}
    for user, role in rows:
        people.setdefault(user.id, (user, []))[1].append(role)
    return list(people.values())
