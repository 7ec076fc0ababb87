"""Core pages: the dashboard, the language switcher, the health check."""

from flask import Blueprint, jsonify, redirect, render_template, session
from flask_login import current_user, login_required

from . import services
from .access import requires
from .forms import LanguageForm
from .health import health_report
from .page_cache import cached_page
from .plugins import flat, hook
from .security import safe_next

bp = Blueprint("core", __name__, template_folder="templates")


@bp.route("/")
@requires("core.dashboard")
@login_required
@cached_page
def dashboard():
    """The signed-in person's start page: the panels plugins offer this person (``lms_dashboard_panels``)."""
    panels = sorted(flat(hook().lms_dashboard_panels(user=current_user)), key=lambda p: p.get("order", 100))
    return render_template("core/dashboard.html", panels=panels)


@bp.route("/language", methods=["POST"])
@requires("core.language")
def language():
    """Switch the page language; saved to the profile when signed in."""
    form = LanguageForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            services.set_locale(current_user, form.locale.data)
        session["locale"] = form.locale.data
    return redirect(safe_next(form.next.data))


@bp.route("/healthz")
@requires("core.health")
def healthz():
    """Database, scheduler heartbeat and queue depth, as JSON for load balancers and monitoring."""
    report = health_report()
    return jsonify(report), (200 if report["database"] == "ok" else 503)
