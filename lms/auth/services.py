"""Every write about accounts and sign-in: sessions, passwords, deactivation, invitations, password
reset, printable sign-in codes, profile and two-factor authentication."""

import dataclasses
import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from flask import current_app, g, session
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import audit, mail, page_cache
from ..access import can, grants, memberships_in_force, next_membership_change, remember_grants, scope_ids
from ..database import begin_write, utcnow
from ..extensions import db
from ..models import AuthSession, Membership, OneTimeCode, Setting, User
from ..plugins import hook, permissions
from . import totp
from .passwords import check_password, hash_password

SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
_PHONE_CHARS = re.compile(r"[\s\-().]")


def token_digest(token: str) -> str:
    """What is stored for a secret token: its SHA-256, so a database leak reveals no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_phone(value: str) -> str:
    """A phone number without spaces, dashes or brackets, as stored and compared."""
    return _PHONE_CHARS.sub("", value or "")


def find_account(identifier: str) -> User | None:
    """The account an e-mail address, username or phone number names (None when none does)."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    lowered = identifier.lower()
    phone = normalise_phone(identifier)
    conditions = [func.lower(User.username) == lowered, func.lower(User.email) == lowered]
    if phone and phone.lstrip("+").isdigit():
        conditions.append(User.phone == phone)
    return db.session.execute(select(User).where(or_(*conditions)).limit(1)).scalar_one_or_none()


def authenticate(identifier: str, password: str) -> User | None:
    """The active account matching the identifier and password; a failure is audited and returns None."""
    user = find_account(identifier)
    if user is not None and user.is_active and check_password(user.password_hash, password):
        return user
    if user is None:
        # Spend the same time as a real check so that response times do not reveal which accounts exist.
        check_password(_DUMMY_HASH, password)
    audit.record_refusal(
        "auth.login_failed",
        actor=user,
        object_type="lms_user" if user else "",
        object_id=user.id if user else "",
        reason="inactive" if user is not None and not user.is_active else "bad credentials",
    )
    return None


_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def start_session(user: User, *, method: str = "password", second_factor_done: bool = False) -> None:
    """Sign ``user`` in: a new server-side session row, named by the cookie; the login is audited."""
    begin_write()
    token = secrets.token_urlsafe(32)
    db.session.add(AuthSession(token_hash=token_digest(token), user_id=user.id, second_factor_done=second_factor_done))
    user.last_login_at = utcnow()
    audit.append("auth.login", user, actor=user, subject=user, reason=method)
    db.session.commit()
    session.clear()
    session["sid"] = token
    # A browser-session cookie that is not re-sent on every response: the server ends idle sessions itself
    # (``user_for_session_token``), so a copied cookie cannot outlive the idle limit by refreshing itself.
    session.permanent = False
    login_user(user)


def end_session() -> None:
    """Sign out: the session row ends, so a copy of the cookie no longer works anywhere."""
    token = session.get("sid")
    if token:
        begin_write()
        db.session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == token_digest(token), AuthSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
        db.session.commit()
    logout_user()
    session.clear()


def end_all_sessions(user: User, *, keep_current: bool = False) -> None:
    """End every session of ``user`` (after a password change or deactivation), in the caller's transaction."""
    query = update(AuthSession).where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
    current = session.get("sid")
    if keep_current and current:
        query = query.where(AuthSession.token_hash != token_digest(current))
    db.session.execute(query.values(ended_at=utcnow()))


# Built once: a page's first statement runs on every request, and building it cost more than running it.
# With the session come the person, their memberships in force and the data generation (one query, not three).
_OPEN_SESSION = (
    select(
        AuthSession.id,
        AuthSession.last_seen_at,
        AuthSession.second_factor_done,
        User,
        memberships_in_force(AuthSession.user_id).scalar_subquery(),
        next_membership_change(AuthSession.user_id).scalar_subquery(),
        page_cache.GENERATION,
    )
    .join(User, User.id == AuthSession.user_id)
    .where(
        AuthSession.token_hash == bindparam("token_hash"),
        AuthSession.ended_at.is_(None),
        AuthSession.last_seen_at > bindparam("idle_since"),
    )
)


def user_for_session_token(token: str | None, user_id) -> User | None:
    """The signed-in user for a cookie's session token, if that session is still open, used within the idle
    limit, and the account active."""
    if not token or not user_id:
        return None
    now = utcnow()
    token_hash = token_digest(token)
    row = db.session.execute(
        _OPEN_SESSION,
        {"token_hash": token_hash, "idle_since": now - current_app.permanent_session_lifetime, "now": now},
    ).first()
    if row is None:
        return None
    session_id, last_seen_at, second_factor_done, user, memberships, grants_change_at, g.lms_data_generation = row
    if str(user.id) != str(user_id) or not user.active:
        return None
    g.lms_signed_in = page_cache.SignedIn(token_hash, second_factor_done, grants_change_at)
    remember_grants(user.id, memberships)
    if now - last_seen_at > SESSION_TOUCH_INTERVAL:
        begin_write()
        db.session.execute(update(AuthSession).where(AuthSession.id == session_id).values(last_seen_at=now))
        db.session.commit()
    return user


# Whether a page kept for a session may be served again: the session still open, used lately enough not to be
# due a touch, its second factor as it was, the account active, and no data changed (the generation).
_STILL_SIGNED_IN = select(
    page_cache.GENERATION,
    select(AuthSession.id)
    .join(User, User.id == AuthSession.user_id)
    .where(
        AuthSession.token_hash == bindparam("token_hash"),
        AuthSession.ended_at.is_(None),
        AuthSession.last_seen_at > bindparam("touched_since"),
        AuthSession.second_factor_done == bindparam("second_factor_done"),
        User.active.is_(True),
    )
    .exists(),
)


def still_signed_in(connection, signed_in: "page_cache.SignedIn") -> int | None:
    """The data generation when the session a page was served to is still as it was then, else None.

    One statement on ``connection``, for ``lms.page_cache.Replay``, which runs outside Flask.
    """
    row = connection.execute(
        _STILL_SIGNED_IN,
        {
            "token_hash": signed_in.token_hash,
            "second_factor_done": signed_in.second_factor_done,
            "touched_since": utcnow() - SESSION_TOUCH_INTERVAL,
        },
    ).first()
    return row[0] if row is not None and row[1] else None


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every other session of the person."""
    begin_write()
    user.password_hash = hash_password(new_password)
    end_all_sessions(user, keep_current=True)
    audit.append("auth.password_changed", user, subject=user)
    db.session.commit()


def set_active(user: User, active: bool, *, reason: str = "") -> None:
    """Deactivate (ending every session at once) or reactivate an account."""
    begin_write()
    before = {"active": user.active}
    user.active = active
    if not active:
        end_all_sessions(user)
    audit.append(
        "user.deactivated" if not active else "user.reactivated",
        user,
        subject=user,
        before=before,
        after={"active": active},
        reason=reason,
    )
    db.session.commit()


class AuthError(Exception):
    """A refused account action; ``str(error)`` is a translated message for the person."""


def _refuse(action: str, by, user) -> None:
    audit.record_refusal("access.denied", actor=by, object_type="lms_user", object_id=user.id, reason=action)
    raise AuthError(_l("You may not do this for this person."))


# --- one-time links and codes ----------------------------------------------------------------------

INVITATION_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=1)
SIGNIN_CODE_LIFETIME = timedelta(days=14)
# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read out loud or copied from paper is typed right the first time.
SIGNIN_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
SIGNIN_CODE_LENGTH = 8


def normalise_signin_code(code: str | None) -> str:
    """A typed code in capitals without spaces or dashes: ``k7qx m4pd`` -> ``K7QXM4PD``."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def code_digest(code: str) -> str:
    """What is stored for a short sign-in code: an HMAC under a key derived from ``SECRET_KEY``.

    A plain hash of an 8-character code could be reversed by trying every code; the key makes a
    leaked table useless on its own.
    """
    key = hashlib.sha256(b"pathways sign-in code\x00" + str(current_app.config["SECRET_KEY"]).encode()).digest()
    return hmac.new(key, normalise_signin_code(code).encode(), hashlib.sha256).hexdigest()


def external_url(endpoint: str, **values) -> str:
    """An absolute link for mail, built on ``BASE_URL`` (never on the request's Host header)."""
    adapter = current_app.url_map.bind("pathways.invalid", script_name=current_app.config.get("APPLICATION_ROOT"))
    return current_app.config["BASE_URL"].rstrip("/") + adapter.build(endpoint, values)


def _replace_code(user: User, purpose: str, digest: str, lifetime: timedelta, by) -> OneTimeCode:
    """A new code for ``user``; their earlier unused codes of the same purpose stop working."""
    now = utcnow()
    db.session.execute(
        update(OneTimeCode)
        .where(OneTimeCode.user_id == user.id, OneTimeCode.purpose == purpose, OneTimeCode.used_at.is_(None))
        .values(used_at=now)
    )
    row = OneTimeCode(
        purpose=purpose,
        code_hash=digest,
        user_id=user.id,
        created_by_id=by.id if by is not None else None,
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(row)
    return row


def _valid_code(digest: str, purpose: str) -> OneTimeCode | None:
    return db.session.execute(
        select(OneTimeCode).where(
            OneTimeCode.code_hash == digest,
            OneTimeCode.purpose == purpose,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > utcnow(),
        )
    ).scalar_one_or_none()


def _consume(row: OneTimeCode) -> bool:
    """Use a code up; False when another request used it first."""
    result = db.session.execute(
        update(OneTimeCode).where(OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None)).values(used_at=utcnow())
    )
    return result.rowcount == 1


def _mail_link(user: User, subject, template: str, link: str, **context) -> None:
    subject_text, body = mail.render_mail(user, subject, template, link=link, **context)
    mail.queue_mail(user.email, subject_text, body)


def invite(user: User, by: User | None) -> str:
    """E-mail ``user`` a link (valid 7 days, single use) with which they choose their password.

    The account needs an e-mail address (people without one get sign-in codes instead) and must be
    active. ``by`` must be allowed ``auth.invite`` for ``user`` (None: the system itself, e.g. a CLI).
    An earlier, unused invitation stops working. Returns the link's opaque token. Raises ``AuthError``.
    """
    if by is not None and not can(by, "auth.invite", user):
        _refuse("auth.invite", by, user)
    if not user.email:
        raise AuthError(_l("This person has no e-mail address. Give them a sign-in code instead."))
    if not user.active:
        raise AuthError(_l("Reactivate the account before inviting the person."))
    begin_write()
    token = secrets.token_urlsafe(32)
    _replace_code(user, "invitation", token_digest(token), INVITATION_LIFETIME, by)
    link = external_url("auth.welcome", token=token)
    _mail_link(user, _l("Your Pathways account"), "auth/mail/invitation.txt", link, days=7)
    audit.append("auth.invited", user, actor=by, subject=user)
    db.session.commit()
    mail.deliver_after_commit()
    return token


def request_password_reset(identifier: str) -> None:
    """Mail a password-reset link (valid one hour, single use) when the identifier names an active
    account with an e-mail address.

    It returns nothing and the page says the same either way, so nobody can use it to find out who
    has an account.
    """
    user = find_account(identifier)
    if user is None or not user.active or not user.email:
        return
    begin_write()
    token = secrets.token_urlsafe(32)
    _replace_code(user, "reset", token_digest(token), RESET_LIFETIME, None)
    link = external_url("auth.reset", token=token)
    _mail_link(user, _l("Choose a new Pathways password"), "auth/mail/reset.txt", link, minutes=60)
    audit.append("auth.reset_requested", user, actor=user, subject=user)
    db.session.commit()
    mail.deliver_after_commit()


def link_account(token: str, purpose: str) -> User | None:
    """The active account a still valid invitation or reset link belongs to (None: expired, used or unknown)."""
    row = _valid_code(token_digest(token or ""), purpose)
    return row.user if row is not None and row.user.active else None


def set_password_by_link(token: str, purpose: str, new_password: str) -> User | None:
    """Use an invitation or reset link: set the password, end every session, sign the person in here.

    Returns None and changes nothing when the link has expired, was used or is unknown.
    """
    begin_write()
    row = _valid_code(token_digest(token or ""), purpose)
    if row is None or not row.user.active or not _consume(row):
        db.session.rollback()
        return None
    user = row.user
    user.password_hash = hash_password(new_password)
    end_all_sessions(user)
    action = "auth.invitation_accepted" if purpose == "invitation" else "auth.password_reset"
    audit.append(action, user, actor=user, subject=user)
    start_session(user, method=purpose)
    return user


def code_recipients(actor) -> list:
    """The plugins' ``select``s of people ``actor`` may issue sign-in codes for (``lms_code_recipients``)."""
    return [query for query in hook().lms_code_recipients(user=actor) if query is not None]


def may_issue_codes(actor) -> bool:
    """Whether ``actor`` holds, anywhere, a role that may issue sign-in codes, or a plugin names people they may
    issue codes for (shows the page and its link)."""
    allowed = permissions().get("auth.issue_codes", frozenset())
    return any(role in allowed for role, _scope_type, _scope_id in grants(actor)) or bool(code_recipients(actor))


def may_issue_code_for(actor, user) -> bool:
    """The access decision for one person's sign-in code: ``auth.issue_codes`` on them (administrators, managers
    of their organisations), or a plugin's ``lms_code_recipients`` names them (a trainer: their cohorts' learners).

    The plugins' answer is asked here rather than through ``User.access_path``, which would make the core read
    plugin tables for every decision about a person. ``people_for_codes`` adds the rule on other roles.
    """
    return can(actor, "auth.issue_codes", user) or user.id in _named_by_plugins(actor, [user.id])


def _named_by_plugins(actor, user_ids) -> set[int]:
    """Which of ``user_ids`` a plugin's ``lms_code_recipients`` names for ``actor``, in one query."""
    recipients = code_recipients(actor)
    if not recipients or not user_ids:
        return set()
    return set(
        db.session.execute(
            select(User.id).where(User.id.in_(list(user_ids)), or_(*(User.id.in_(query) for query in recipients)))
        ).scalars()
    )


def _member_of(organisation_ids):
    now = utcnow()
    return exists().where(
        Membership.user_id == User.id,
        Membership.role == "member",
        Membership.scope_type == "organisation",
        Membership.scope_id.in_(organisation_ids),
        or_(Membership.valid_from.is_(None), Membership.valid_from <= now),
        or_(Membership.valid_until.is_(None), Membership.valid_until > now),
    )


def people_for_codes(actor, organisation_id: int | None = None):
    """The SQL query of active people ``actor`` may issue sign-in codes for, ordered by name.

    Administrators: everyone. Organisation managers: people with a current ``member`` membership in
    one of their organisations; trainers: the people plugins name (``lms_code_recipients``, the learners
    of their cohorts); in both cases only people who hold no role other than ``member`` or ``learner``
    (a code handed out must never open a more powerful account). ``organisation_id`` narrows the list.
    """
    organisation_ids = scope_ids(actor, "auth.issue_codes", "organisation")
    query = select(User).where(User.active.is_(True), User.erased_at.is_(None), User.id != actor.id)
    if organisation_ids is not None:
        other_roles = exists().where(Membership.user_id == User.id, Membership.role.not_in(("member", "learner")))
        reachable = [_member_of(organisation_ids), *(User.id.in_(q) for q in code_recipients(actor))]
        query = query.where(or_(*reachable), ~other_roles)
    if organisation_id is not None:
        query = query.where(_member_of([organisation_id]))
    return query.order_by(User.last_name, User.first_name, User.id)


def issue_signin_codes(users, by: User) -> list[tuple[User, str]]:
    """Give each person a printable one-time sign-in code such as ``K7QX-M4PD`` (valid 14 days, single use).

    For people without e-mail: a trainer or manager prints the codes or reads them out. Codes issued
    earlier and not yet used stop working, so the newest sheet is the one that counts. ``by`` must
    pass ``may_issue_code_for`` for every person and each must be in ``people_for_codes(by)``;
    otherwise nothing is issued and ``AuthError`` is raised. Returns ``(user, code)`` pairs in the
    order given; the codes themselves are stored only as keyed digests, so this is the one chance to
    show them.
    """
    users = list(users)
    ids = [user.id for user in users]
    allowed = set(db.session.execute(people_for_codes(by).with_only_columns(User.id).where(User.id.in_(ids))).scalars())
    # may_issue_code_for for the whole sheet: memberships (User.access_path) and the plugins' answer in a query each
    db.session.execute(select(User).where(User.id.in_(ids)).options(selectinload(User.memberships))).all()
    outside_rules = {user.id for user in users if not can(by, "auth.issue_codes", user)}
    named = _named_by_plugins(by, outside_rules)
    for user in users:
        if user.id not in allowed or (user.id in outside_rules and user.id not in named):
            _refuse("auth.issue_codes", by, user)
    begin_write()
    issued = []
    for user in users:
        raw = "".join(secrets.choice(SIGNIN_ALPHABET) for _ in range(SIGNIN_CODE_LENGTH))
        _replace_code(user, "signin", code_digest(raw), SIGNIN_CODE_LIFETIME, by)
        audit.append("auth.signin_code_issued", user, actor=by, subject=user)
        issued.append((user, f"{raw[:4]}-{raw[4:]}"))
    db.session.commit()
    return issued


def sign_in_with_code(code: str, identifier: str = "") -> User | None:
    """Sign in with a printed code, optionally with the username, e-mail or phone it was issued to.

    The code is used up. A failure is audited and returns None, whatever the reason.
    """
    identifier = (identifier or "").strip()
    named = find_account(identifier) if identifier else None
    begin_write()
    row = _valid_code(code_digest(code), "signin")
    user = row.user if row is not None else None
    if user is None or not user.active or (identifier and (named is None or named.id != user.id)) or not _consume(row):
        db.session.rollback()
        audit.record_refusal(
            "auth.code_failed",
            actor=named,
            object_type="lms_user" if named else "",
            object_id=named.id if named else "",
            reason="bad code",
        )
        return None
    start_session(user, method="code")
    return user


# --- profile -------------------------------------------------------------------------------------

PROFILE_FIELDS = ("first_name", "last_name", "first_name_alt", "last_name_alt", "email", "phone", "locale")


def update_profile(user: User, data: dict) -> None:
    """Save the person's names in both scripts, e-mail address, phone number and language.

    Empty optional fields are stored as empty (None). Raises ``AuthError`` when the e-mail address or
    phone number was taken by another account in the meantime.
    """
    cleaned = {name: (data.get(name) or "").strip() for name in PROFILE_FIELDS}
    cleaned["phone"] = normalise_phone(cleaned["phone"])
    for name in ("first_name_alt", "last_name_alt", "email", "phone", "locale"):
        cleaned[name] = cleaned[name] or None
    begin_write()
    before = {name: getattr(user, name) for name in PROFILE_FIELDS}
    for name, value in cleaned.items():
        setattr(user, name, value)
    audit.append("user.profile_changed", user, subject=user, before=before, after=cleaned)
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise AuthError(_l("This e-mail address or phone number is already in use.")) from error


# --- two-factor authentication ------------------------------------------------------------------

REQUIRE_2FA_SETTING = "auth.require_2fa_roles"


def required_2fa_roles() -> set[str]:
    """Roles whose members must use an authenticator: ``REQUIRE_2FA_ROLES`` plus the site setting."""
    configured = current_app.config.get("REQUIRE_2FA_ROLES") or []
    if isinstance(configured, str):
        configured = configured.split(",")
    # Every signed-in request asks; the setting is read again only when the data generation the session query
    # brought has moved on (a change to it moves the generation), and always where there is none (CLI, worker).
    generation = g.get("lms_data_generation")
    cached = current_app.extensions.get(REQUIRE_2FA_SETTING)
    if cached is None or generation is None or cached[0] != generation:
        setting = db.session.get(Setting, REQUIRE_2FA_SETTING)
        stored = setting.value.split(",") if setting is not None else []
        cached = current_app.extensions[REQUIRE_2FA_SETTING] = (generation, stored)
    return {role.strip() for role in [*configured, *cached[1]] if role.strip()}


def set_required_2fa_roles(roles) -> None:
    """Administrators: require two-factor authentication of everyone holding one of ``roles``."""
    begin_write()
    setting = db.session.get(Setting, REQUIRE_2FA_SETTING)
    before = {"roles": setting.value if setting is not None else ""}
    value = ",".join(sorted(set(roles)))
    if setting is None:
        db.session.add(Setting(key=REQUIRE_2FA_SETTING, value=value))
    else:
        setting.value = value
    audit.append("auth.require_2fa_changed", object_type="lms_setting", object_id=REQUIRE_2FA_SETTING,
                 before=before, after={"roles": value})  # fmt: skip
    db.session.commit()
    current_app.extensions.pop(REQUIRE_2FA_SETTING, None)


def two_factor_required(user: User) -> bool:
    """Whether the person must use an authenticator (required of them, or of one of their roles)."""
    required = required_2fa_roles()
    return bool(user.totp_required) or any(role in required for role, _st, _sid in grants(user))


def may_use_totp(user: User) -> bool:
    """Administrators, programme managers and auditors may turn on an authenticator; so may anyone required to."""
    return two_factor_required(user) or any(role in totp.TOTP_ROLES for role, _st, _sid in grants(user))


def second_factor_pending(user: User) -> bool:
    """Whether this browser's session must still pass the authenticator step before any other page."""
    signed_in = g.get("lms_signed_in")
    if signed_in is None or signed_in.second_factor_done:
        return False
    return user.totp_enabled or two_factor_required(user)


def _mark_second_factor_done() -> None:
    token = session.get("sid")
    if token:
        db.session.execute(
            update(AuthSession).where(AuthSession.token_hash == token_digest(token)).values(second_factor_done=True)
        )
    if "lms_signed_in" in g:
        g.lms_signed_in = dataclasses.replace(g.lms_signed_in, second_factor_done=True)


def _use_code(user: User, secret: str | None, code: str) -> bool:
    """Accept an authenticator code once, in the caller's write transaction: a code already accepted, or an
    older one, is refused, so a code seen over someone's shoulder or in a proxy log cannot be replayed.

    Claimed with one conditional UPDATE, so two requests racing with the same code cannot both pass.
    """
    step = totp.matching_step(secret, code)
    if step is None:
        return False
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def _refuse_code(user: User) -> bool:
    db.session.rollback()
    audit.record_refusal("auth.totp_failed", actor=user, object_type="lms_user", object_id=user.id)
    return False


def check_second_factor(user: User, code: str) -> bool:
    """Pass the authenticator step of this session with a code; a wrong or used code is audited and returns False."""
    begin_write()
    if not _use_code(user, totp.decrypt_secret(user.totp_secret), code):
        return _refuse_code(user)
    _mark_second_factor_done()
    audit.append("auth.second_factor", user, actor=user, subject=user)
    db.session.commit()
    return True


def enable_totp(user: User, secret: str, code: str) -> bool:
    """Turn on the authenticator whose ``secret`` the person scanned, once ``code`` proves it works.

    The secret is stored encrypted; this session counts as having passed the second factor. Returns
    False (nothing changed, the failure audited) when the code does not match.
    """
    if not may_use_totp(user):
        _refuse("account.two_factor", user, user)
    begin_write()
    if not _use_code(user, secret, code):
        return _refuse_code(user)
    user.totp_secret = totp.encrypt_secret(secret)
    _mark_second_factor_done()
    audit.append("auth.totp_enabled", user, subject=user)
    db.session.commit()
    return True


def disable_totp(user: User, code: str) -> bool:
    """Turn the authenticator off with a current code from it. False (nothing changed) for a wrong code.

    Raises ``AuthError`` when two-factor authentication is required of the person.
    """
    if two_factor_required(user):
        raise AuthError(_l("Two-factor authentication is required for your account, so it cannot be turned off."))
    begin_write()
    if not _use_code(user, totp.decrypt_secret(user.totp_secret), code):
        return _refuse_code(user)
    user.totp_secret = None
    user.totp_last_step = None  # a new authenticator starts afresh
    audit.append("auth.totp_disabled", user, subject=user)
    db.session.commit()
    return True
