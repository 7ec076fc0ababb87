"""Sign-in and sign-out pages."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import requires
from ..security import safe_next
from . import services
from .forms import LoginForm, LogoutForm

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="../templates")


@bp.route("/login", methods=["GET", "POST"])
@requires("auth.login")
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
