"""Sign-in pages: password, printed code, authenticator step, password reset, invitations, code sheets."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from ..access import deny, requires
from ..database import utcnow
from ..extensions import db
from ..models import Organisation
from ..page_cache import cached_page
from ..security import safe_next
from . import services
from .forms import CodeLoginForm, IssueCodesForm, LoginForm, LogoutForm, NewPasswordForm, ResetRequestForm, TotpCodeForm
from .limits import login_limits, mark_failed, reset_limits

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="../templates")

# Pages a person may still open while their session waits for the authenticator step.
SECOND_FACTOR_EXEMPT = {"auth.logout", "auth.second_factor", "account.two_factor", "core.language", "core.healthz"}
CODES_LIST_LIMIT = 500
NEXT_KEY = "after_second_factor"


@bp.before_app_request
def second_factor_gate():
    """Until the authenticator step is passed, every other page sends the person to it (or to set it up)."""
    endpoint = request.endpoint or ""
    if endpoint in SECOND_FACTOR_EXEMPT or endpoint == "static" or endpoint.endswith(".static"):
        return None
    if getattr(current_app.view_functions.get(endpoint), "lms_api", None):
        return None  # API routes authenticate by bearer token only, never by this cookie session
    if not session.get("sid") or not current_user.is_authenticated:
        return None
    if not services.second_factor_pending(current_user):
        return None
    if request.method == "GET" and endpoint != "core.dashboard":
        session[NEXT_KEY] = request.full_path
    return redirect(url_for("auth.second_factor" if current_user.totp_enabled else "account.two_factor"))


@bp.route("/login", methods=["GET", "POST"])
@requires("auth.login")
@login_limits
@cached_page(data=False)
def login():
    """Sign in with e-mail, username or phone number and password."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.authenticate(form.login.data, form.password.data)
        if user is not None:
            services.start_session(user)
            return redirect(safe_next(form.next.data))
        mark_failed()
        flash(_("The sign-in details are not right. Check them and try again."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@requires("auth.logout")
def logout():
    """Sign out and end the session on the server."""
    if LogoutForm().validate_on_submit():
        services.end_session()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/two-factor", methods=["GET", "POST"])
@requires("auth.second_factor")
@login_limits
def second_factor():
    """The authenticator step after the password, for people who use one."""
    if not current_user.totp_enabled:
        return redirect(url_for("account.two_factor"))
    if not services.second_factor_pending(current_user):
        return redirect(url_for("core.dashboard"))
    form = TotpCodeForm()
    if form.validate_on_submit():
        if services.check_second_factor(current_user, form.code.data):
            return redirect(safe_next(session.pop(NEXT_KEY, None)))
        mark_failed()
        flash(_("This code is not right. Use the code your app shows now."), "error")
    return render_template("auth/second_factor.html", form=form)


@bp.route("/code", methods=["GET", "POST"])
@requires("auth.code_login")
@login_limits
def code_login():
    """Sign in with a one-time code printed or read out by a trainer or manager."""
    if current_user.is_authenticated:
        return redirect(url_for("core.dashboard"))
    form = CodeLoginForm()
    if form.validate_on_submit():
        user = services.sign_in_with_code(form.code.data, form.login.data or "")
        if user is not None:
            session["may_set_password"] = True
            return redirect(url_for("auth.choose_password"))
        mark_failed()
        flash(_("This code does not work. Check it, or ask your trainer for a new one."), "error")
    return render_template("auth/code_login.html", form=form)


@bp.route("/choose-password", methods=["GET", "POST"])
@requires("auth.choose_password")
def choose_password():
    """Right after a code sign-in: choose a password, or carry on with codes."""
    if not session.get("may_set_password"):
        return redirect(url_for("account.password"))
    user = current_user._get_current_object()
    form = NewPasswordForm(account=user)
    if form.validate_on_submit():
        services.change_password(user, form.password.data)
        session.pop("may_set_password", None)
        flash(_("Your password is saved. Next time you can sign in with it."), "success")
        return redirect(url_for("core.dashboard"))
    return render_template("auth/choose_password.html", form=form)


@bp.route("/reset", methods=["GET", "POST"])
@requires("auth.reset")
@reset_limits
def reset_request():
    """Ask for a password-reset link by e-mail."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.login.data)
        flash(
            _(
                "If this account has an e-mail address, a link to choose a new password is on its way. "
                "It works for one hour. No e-mail? Ask your trainer or organisation for a sign-in code."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


def _password_by_link(token: str, purpose: str, template: str):
    user = services.link_account(token, purpose)
    if user is None:
        return render_template("auth/link_invalid.html", purpose=purpose), 410
    form = NewPasswordForm(account=user)
    if form.validate_on_submit():
        if services.set_password_by_link(token, purpose, form.password.data) is None:
            return render_template("auth/link_invalid.html", purpose=purpose), 410
        flash(_("Your password is saved and you are signed in."), "success")
        return redirect(url_for("core.dashboard"))
    return render_template(template, form=form, person=user)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@requires("auth.reset")
def reset(token):
    """Choose a new password with the link from the reset e-mail."""
    return _password_by_link(token, "reset", "auth/reset.html")


@bp.route("/welcome/<token>", methods=["GET", "POST"])
@requires("auth.welcome")
def welcome(token):
    """Accept an invitation: choose a password for the new account."""
    return _password_by_link(token, "invitation", "auth/welcome.html")


def _require_code_issuer():
    if not services.may_issue_codes(current_user):
        deny("auth.issue_codes")


def _organisation_filter() -> Organisation | None:
    value = request.values.get("organisation", "")
    if not value:
        return None
    if not value.isdigit():
        abort(404)
    return db.session.get(Organisation, int(value)) or abort(404)


def _codes_form(organisation):
    query = services.people_for_codes(current_user, organisation.id if organisation else None)
    people = db.session.execute(query.limit(CODES_LIST_LIMIT + 1)).scalars().all()
    form = IssueCodesForm()
    form.people.choices = [(person.id, person.display_name) for person in people[:CODES_LIST_LIMIT]]
    return form, people[:CODES_LIST_LIMIT], len(people) > CODES_LIST_LIMIT


@bp.route("/codes")
@requires("auth.codes")
def codes():
    """Choose people (those one may manage) to print one-time sign-in codes for."""
    _require_code_issuer()
    organisation = _organisation_filter()
    form, people, truncated = _codes_form(organisation)
    return render_template("auth/codes.html", form=form, people=people, truncated=truncated, organisation=organisation)


@bp.route("/codes/sheet", methods=["GET", "POST"])
@requires("auth.codes")
def codes_sheet():
    """Issue the codes and show them once, as a sheet to print and cut (the codes are not stored readable)."""
    _require_code_issuer()
    if request.method == "GET":
        return redirect(url_for("auth.codes"))
    organisation = _organisation_filter()
    form, people, truncated = _codes_form(organisation)
    if not form.validate_on_submit():
        return render_template(
            "auth/codes.html", form=form, people=people, truncated=truncated, organisation=organisation
        )
    chosen = [person for person in people if person.id in set(form.people.data)]
    try:
        issued = services.issue_signin_codes(chosen, by=current_user._get_current_object())
    except services.AuthError as error:
        flash(str(error), "error")
        return redirect(url_for("auth.codes"))
    valid_until = format_date(utcnow() + services.SIGNIN_CODE_LIFETIME, "long")
    return render_template(
        "auth/codes_sheet.html",
        issued=issued,
        valid_until=valid_until,
        signin_url=services.external_url("auth.code_login"),
    )
