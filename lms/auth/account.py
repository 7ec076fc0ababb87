"""The person's own account: profile, password, two-factor authentication."""

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import deny, requires
from . import services, totp
from .forms import ChangePasswordForm, ProfileForm, TotpCodeForm

bp = Blueprint("account", __name__, url_prefix="/account", template_folder="../templates")

PENDING_SECRET_KEY = "totp_pending_secret"  # noqa: S105  (a session key name, not a secret)


def _me():
    return current_user._get_current_object()


@bp.route("", methods=["GET", "POST"])
@requires("account.profile")
def profile():
    """Names in both scripts, e-mail, phone and language."""
    user = _me()
    form = ProfileForm(obj=user, account=user)
    if form.validate_on_submit():
        try:
            services.update_profile(user, form.data)
        except services.AuthError as error:
            flash(str(error), "error")
        else:
            session["locale"] = user.locale
            flash(_("Your details are saved."), "success")
            return redirect(url_for("account.profile"))
    return render_template(
        "account/profile.html", form=form, may_use_totp=services.may_use_totp(user), totp_enabled=user.totp_enabled
    )


@bp.route("/password", methods=["GET", "POST"])
@requires("account.password")
def password():
    """Change the password; every other browser signed in to the account is signed out."""
    user = _me()
    form = ChangePasswordForm(account=user)
    if form.validate_on_submit():
        services.change_password(user, form.password.data)
        flash(_("Your password is changed. Other browsers signed in to your account were signed out."), "success")
        return redirect(url_for("account.profile"))
    return render_template("account/password.html", form=form)


@bp.route("/two-factor", methods=["GET", "POST"])
@requires("account.two_factor")
def two_factor():
    """Turn an authenticator app on (scan, then confirm with a code) or off (with a code)."""
    user = _me()
    if not services.may_use_totp(user):
        deny("account.two_factor")
    form = TotpCodeForm()
    if user.totp_enabled:
        if form.validate_on_submit():
            try:
                turned_off = services.disable_totp(user, form.code.data)
            except services.AuthError as error:
                flash(str(error), "error")
            else:
                if turned_off:
                    flash(_("Two-factor authentication is off."), "success")
                    return redirect(url_for("account.profile"))
                flash(_("This code is not right. Use the code your app shows now."), "error")
        return render_template(
            "account/two_factor.html", form=form, enabled=True, required=services.two_factor_required(user)
        )
    secret = session.get(PENDING_SECRET_KEY) or totp.new_secret()
    session[PENDING_SECRET_KEY] = secret
    if form.validate_on_submit():
        if services.enable_totp(user, secret, form.code.data):
            session.pop(PENDING_SECRET_KEY, None)
            flash(_("Two-factor authentication is on. You will need your app each time you sign in."), "success")
            return redirect(url_for("account.profile"))
        flash(_("This code is not right. Use the code your app shows now."), "error")
    uri = totp.provisioning_uri(secret, user.email or user.username)
    return render_template(
        "account/two_factor.html",
        form=form,
        enabled=False,
        required=services.two_factor_required(user),
        qr=totp.qr_data_uri(uri),
        secret=totp.grouped_secret(secret),
    )
