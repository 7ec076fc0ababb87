"""The person's secret calendar feed: its page (create, regenerate, revoke) and the public ``.ics`` route.

The feed route is open to anonymous callers because calendar applications fetch it without a session;
the token in the URL is the credential, and it names no person.
"""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.access import requires

from . import ical
from .forms import ConfirmForm
from .views import bp


@bp.route("/calendar/feed", methods=["GET", "POST"])
@requires("catalogue.calendar.view")
def calendar_feed():
    """Create or regenerate the secret feed URL (shown once), or revoke it."""
    form = ConfirmForm()  # create, regenerate or revoke: the button pressed decides
    new_url = None
    if form.validate_on_submit():
        if request.form.get("action") == "revoke":
            if ical.revoke_feed(current_user):
                flash(_("Your calendar feed was turned off. Calendar apps using it will stop updating."), "success")
            return redirect(url_for(".calendar_feed"))
        token = ical.create_feed(current_user)
        new_url = url_for(".calendar_ics", token=token, _external=True)
    return render_template("catalogue/calendar_feed.html", form=form, feed=ical.active_feed(current_user),
                           new_url=new_url)  # fmt: skip


@bp.route("/calendar/<token>.ics")
@requires("catalogue.calendar.feed")
def calendar_ics(token):
    """The feed itself, for calendar applications; 404 for an unknown or revoked token."""
    user = ical.feed_owner(token)
    if user is None:
        abort(404)
    response = Response(ical.calendar_text(user, request.host.split(":")[0]), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
