"""Who may do what: the one place that decides.

Every protected object answers ``access_path()``: the chain of ``(scope_type, id)`` above it, ending
with ``("site", None)``. Plugins declare which roles may perform which actions (``lms_permissions``).
A person may perform an action on an object when one of their current memberships grants an allowed
role in a scope on the object's path. ``anonymous``, ``authenticated`` and ``owner`` are implicit roles.
"""

import functools

from flask import abort, g, request
from flask_login import current_user
from sqlalchemy import String, and_, bindparam, case, cast, func, or_, select

from . import audit
from .database import utcnow
from .extensions import db, login_manager
from .models import Membership
from .plugins import permissions

SITE = ("site", None)
# Statements built once: every signed-in request runs one of them.
_IN_FORCE = and_(
    or_(Membership.valid_from.is_(None), Membership.valid_from <= bindparam("now")),
    or_(Membership.valid_until.is_(None), Membership.valid_until > bindparam("now")),
)
_CURRENT_MEMBERSHIPS = select(Membership.role, Membership.scope_type, Membership.scope_id).where(
    Membership.user_id == bindparam("user_id"), _IN_FORCE
)


def memberships_in_force(user_id_column):
    """A column of the memberships in force (at the ``now`` parameter) of the user in ``user_id_column``, packed
    as ``role scope_type scope_id`` joined by ``;``, so that the signed-in person's session query brings them
    along (``remember_grants``) instead of ``grants`` asking again."""
    scope_id = func.coalesce(cast(Membership.scope_id, String), "")
    packed = Membership.role + " " + Membership.scope_type + " " + scope_id
    return select(func.aggregate_strings(packed, ";")).where(Membership.user_id == user_id_column, _IN_FORCE)


def next_membership_change(user_id_column):
    """A column of when the clock alone next changes the memberships in force (at the ``now`` parameter) of the
    user in ``user_id_column``: the earliest future start or end, NULL when none is due. A page served again
    without asking the access rules (``lms.page_cache.Replay``) must not outlive it."""
    now = bindparam("now")
    return select(
        func.min(case((Membership.valid_from > now, Membership.valid_from), else_=Membership.valid_until))
    ).where(Membership.user_id == user_id_column, or_(Membership.valid_from > now, Membership.valid_until > now))


def _grant_set(user_id: int, rows) -> frozenset[tuple[str, str, int | None]]:
    implicit = {("anonymous", "site", None), ("authenticated", "site", None), ("owner", "user", user_id)}
    return frozenset({(r, st, None if st == "site" else sid) for r, st, sid in rows} | implicit)


def remember_grants(user_id: int, packed: str | None) -> None:
    """Keep for this request the grants read by ``memberships_in_force``."""
    rows = [
        (role, st, int(sid) if sid else None)
        for role, st, sid in (m.split(" ") for m in (packed or "").split(";") if m)
    ]
    g.setdefault("lms_grants", {})[user_id] = _grant_set(user_id, rows)


def grants(user) -> frozenset[tuple[str, str, int | None]]:
    """The ``(role, scope_type, scope_id)`` a person holds now, implicit roles included (cached per request)."""
    if user is None or not user.is_authenticated:
        return frozenset({("anonymous", "site", None)})
    cache = g.setdefault("lms_grants", {})
    if user.id not in cache:
        rows = db.session.execute(_CURRENT_MEMBERSHIPS, {"user_id": user.id, "now": utcnow()}).all()
        cache[user.id] = _grant_set(user.id, rows)
    return cache[user.id]


def path_of(obj) -> list[tuple[str, int | None]]:
    """The scopes above an object; ``None`` means a site-level action."""
    return [SITE] if obj is None else list(obj.access_path())


def can(user, action: str, obj=None) -> bool:
    """Whether ``user`` may perform ``action`` on ``obj`` (or at site level when ``obj`` is None).

    Unknown actions are refused: a route cannot be opened by forgetting to declare it.
    """
    allowed_roles = permissions().get(action)
    if not allowed_roles:
        return False
    path = set(path_of(obj))
    return any(role in allowed_roles and (scope_type, scope_id) in path for role, scope_type, scope_id in grants(user))


def scope_ids(user, action: str, scope_type: str) -> set[int] | None:
    """Ids of the scopes of one type in which ``user`` may perform ``action``; None means every one (site grant).

    List pages use this to filter rows in SQL instead of checking each row.
    """
    allowed_roles = permissions().get(action, frozenset())
    ids = set()
    for role, st, sid in grants(user):
        if role not in allowed_roles:
            continue
        if st == "site":
            return None
        if st == scope_type:
            ids.add(sid)
    return ids


def deny(action: str, obj=None):
    """Refuse: audit the refusal in its own transaction, then 403 (or send a signed-out visitor to log in)."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    object_type, object_id = audit.object_ref(obj)
    audit.record_refusal(
        "access.denied", actor=current_user, object_type=object_type, object_id=object_id, reason=action
    )
    abort(403)


def authorize(action: str, obj=None) -> None:
    """Abort unless the signed-in user may perform ``action`` on ``obj``."""
    if not can(current_user, action, obj):
        response = deny(action, obj)
        abort(response)


def requires(action: str, load=None):
    """Name the action a route performs and check it before the view runs.

    With ``load``, the route's URL arguments are passed to ``load`` to fetch the object (404 when it
    returns None); the check is made against that object and the view receives it as first argument.
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if load is None:
                authorize(action)
                return view(*args, **kwargs)
            obj = load(**kwargs)
            if obj is None:
                abort(404)
            authorize(action, obj)
            return view(obj)

        wrapper.lms_action = action
        return wrapper

    return decorator


def route_action(endpoint_function) -> str | None:
    """The action a view declares (None for a route that declares none, which the route test forbids)."""
    return getattr(endpoint_function, "lms_action", None)


def current_endpoint_action() -> str | None:
    """The action of the route serving this request."""
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint or "")
    return route_action(view) if view else None
