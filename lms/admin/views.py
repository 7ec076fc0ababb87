"""Administration pages (people, organisations, roles, invitations, outbox) and organisation managers' people pages."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..access import can, requires, scope_ids
from ..auth import services as auth_services
from ..extensions import db
from ..models import Membership, Organisation, OutboxMessage, User
from . import ORGANISATION_KIND_LABELS, ROLE_LABELS, SCOPE_LABELS, services
from .forms import ActiveForm, ConfirmForm, MembershipForm, OrganisationForm, PersonForm, SearchForm

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="../templates")

PER_PAGE = 25
SEARCH_KEY = "admin_user_search"


@bp.context_processor
def labels():
    """Translated names of roles, organisation kinds and scopes for every administration page."""
    return {"role_labels": ROLE_LABELS, "kind_labels": ORGANISATION_KIND_LABELS, "scope_labels": SCOPE_LABELS}


def load_user(user_id):
    """The person a URL names."""
    return db.session.get(User, user_id)


def load_organisation(organisation_id):
    """The organisation a URL names."""
    return db.session.get(Organisation, organisation_id)


def load_membership(membership_id):
    """The role grant a URL names."""
    return db.session.get(Membership, membership_id)


def _page():
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _optional_url(endpoint: str, **values) -> str | None:
    # Pages of other parts (such as the sign-in code sheet) are linked only when that part provides them.
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


@bp.route("/")
@requires("admin.index")
def index():
    """The administrator's start page: links to every section."""
    return render_template("admin/index.html", codes_url=_optional_url("auth.codes"))


# --- people --------------------------------------------------------------------------------------


@bp.route("/users", methods=["GET", "POST"])
@requires("admin.user_view")
def users():
    """Everyone, paginated; search by name, username or e-mail, filter by organisation."""
    form = SearchForm()
    if form.validate_on_submit():
        # The search text stays in the session: names and e-mail addresses never go into a URL.
        session[SEARCH_KEY] = "" if request.form.get("clear") else (form.q.data or "").strip()
        return redirect(url_for(".users", organisation=request.args.get("organisation", type=int)))
    text = session.get(SEARCH_KEY, "")
    form.q.data = text
    organisation_id = request.args.get("organisation", type=int)
    page = db.paginate(services.user_search(text, organisation_id), page=_page(), per_page=PER_PAGE, error_out=False)
    organisations = db.session.execute(services.organisations_for(current_user, "admin.user_view")).scalars().all()
    return render_template(
        "admin/users.html", form=form, page=page, organisations=organisations, organisation_id=organisation_id
    )


@bp.route("/users/new", methods=["GET", "POST"])
@requires("admin.user_manage")
def user_new():
    """Create an account; e-mail and phone are optional, names may be written in two scripts."""
    form = PersonForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(form.data)
        except services.AdminError as error:
            flash(str(error), "error")
        else:
            flash(_("The account %(username)s was created.", username=user.username), "success")
            return redirect(url_for(".user", user_id=user.id))
    return render_template("admin/person_form.html", form=form, title=_("New person"), cancel=url_for(".users"))


@bp.route("/users/<int:user_id>")
@requires("admin.user_view", load=load_user)
def user(person):
    """One person: identifiers, roles, and the buttons to invite, deactivate and grant roles."""
    organisations = {
        o.id: o
        for o in db.session.execute(
            select(Organisation).where(
                Organisation.id.in_([m.scope_id for m in person.memberships if m.scope_type == "organisation"])
            )
        ).scalars()
    }
    return render_template(
        "admin/user.html",
        person=person,
        organisations=organisations,
        active_form=ActiveForm(),
        codes_url=_optional_url("auth.codes"),
    )


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@requires("admin.user_manage", load=load_user)
def user_edit(person):
    """Change a person's names, identifiers and language."""
    form = PersonForm(obj=person, user_id=person.id)
    if form.validate_on_submit():
        try:
            services.update_user(person, form.data)
        except services.AdminError as error:
            flash(str(error), "error")
        else:
            flash(_("The changes were saved."), "success")
            return redirect(url_for(".user", user_id=person.id))
    return render_template(
        "admin/person_form.html",
        form=form,
        title=_("Edit %(name)s", name=person.display_name),
        cancel=url_for(".user", user_id=person.id),
    )


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@requires("admin.user_manage", load=load_user)
def user_active(person):
    """Deactivate (ending every session) or reactivate an account, with a reason."""
    form = ActiveForm()
    if form.validate_on_submit():
        try:
            services.set_user_active(person, not person.active, reason=form.reason.data, by=current_user)
        except services.AdminError as error:
            flash(str(error), "error")
        else:
            message = _("The account is active again.") if person.active else _("The account was deactivated.")
            flash(message, "success")
    return redirect(url_for(".user", user_id=person.id))


@bp.route("/users/<int:user_id>/invite", methods=["POST"])
@requires("admin.invite", load=load_user)
def user_invite(person):
    """E-mail an invitation link with which the person chooses a password."""
    if ConfirmForm().validate_on_submit():
        try:
            auth_services.invite(person, by=current_user._get_current_object())
        except auth_services.AuthError as error:
            flash(str(error), "error")
        else:
            flash(_("An invitation was sent to %(email)s.", email=person.email), "success")
    return redirect(url_for(".user", user_id=person.id))


# --- roles ---------------------------------------------------------------------------------------


@bp.route("/users/<int:user_id>/roles/new", methods=["GET", "POST"])
@requires("admin.membership_manage", load=load_user)
def membership_new(person):
    """Give a person a role in a scope, optionally from and until a date."""
    organisations = db.session.execute(services.organisations_for(current_user, "admin.membership_manage")).scalars()
    form = MembershipForm(organisations=organisations)
    if form.validate_on_submit():
        scope_type, scope_id = form.scope()
        valid_from, valid_until = form.period()
        try:
            services.grant_membership(
                person, form.role.data, scope_type, scope_id, valid_from=valid_from, valid_until=valid_until
            )
        except services.AdminError as error:
            flash(str(error), "error")
        else:
            flash(_("The role was given."), "success")
            return redirect(url_for(".user", user_id=person.id))
    return render_template("admin/membership_form.html", form=form, person=person)


@bp.route("/memberships/<int:membership_id>/revoke", methods=["POST"])
@requires("admin.membership_manage", load=load_membership)
def membership_revoke(membership):
    """Take a role away at once."""
    user_id = membership.user_id
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.revoke_membership(membership, reason=form.reason.data or "")
        except services.AdminError as error:
            flash(str(error), "error")
        else:
            flash(_("The role was taken away."), "success")
    return redirect(url_for(".user", user_id=user_id))


# --- organisations -------------------------------------------------------------------------------


@bp.route("/organisations")
@requires("admin.organisation_view")
def organisations():
    """Every organisation, paginated."""
    query = services.organisations_for(current_user, "admin.organisation_view")
    page = db.paginate(query, page=_page(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/organisations.html", page=page)


@bp.route("/organisations/new", methods=["GET", "POST"])
@requires("admin.organisation_manage")
def organisation_new():
    """Add an organisation."""
    form = OrganisationForm()
    if form.validate_on_submit():
        services.create_organisation(form.values())
        flash(_("The organisation was added."), "success")
        return redirect(url_for(".organisations"))
    return render_template("admin/organisation_form.html", form=form, title=_("New organisation"))


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@requires("admin.organisation_manage", load=load_organisation)
def organisation_edit(organisation):
    """Change an organisation."""
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        services.update_organisation(organisation, form.values())
        flash(_("The changes were saved."), "success")
        return redirect(url_for(".organisations"))
    return render_template("admin/organisation_form.html", form=form, title=_("Edit %(name)s", name=organisation.name))


@bp.route("/my-organisation")
@requires("organisation.mine")
def my_organisation():
    """Where "My organisation" leads: the one organisation a manager runs, or the list of them."""
    if scope_ids(current_user, "organisation.people_view", "organisation") is None:
        return redirect(url_for(".organisations"))
    managed = db.session.execute(services.organisations_for(current_user, "organisation.people_view")).scalars().all()
    if len(managed) == 1:
        return redirect(url_for(".organisation_people", organisation_id=managed[0].id))
    return render_template("admin/my_organisations.html", organisations=managed)


@bp.route("/organisations/<int:organisation_id>/people")
@requires("organisation.people_view", load=load_organisation)
def organisation_people(organisation):
    """The people of one organisation with their roles there."""
    return render_template(
        "admin/organisation_people.html",
        organisation=organisation,
        people=services.organisation_people(organisation),
        can_add=can(current_user, "organisation.people_add", organisation),
        can_view_users=can(current_user, "admin.user_view"),
        codes_url=_optional_url("auth.codes", organisation=organisation.id),
    )


@bp.route("/organisations/<int:organisation_id>/people/new", methods=["GET", "POST"])
@requires("organisation.people_add", load=load_organisation)
def organisation_person_new(organisation):
    """Create an account for a member of staff (with or without e-mail) who joins the organisation."""
    form = PersonForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(form.data, organisation=organisation)
        except services.AdminError as error:
            flash(str(error), "error")
        else:
            flash(_("The account %(username)s was created.", username=user.username), "success")
            return redirect(url_for(".organisation_people", organisation_id=organisation.id))
    return render_template(
        "admin/person_form.html",
        form=form,
        title=_("New person in %(organisation)s", organisation=organisation.name),
        cancel=url_for(".organisation_people", organisation_id=organisation.id),
    )


# --- outbox --------------------------------------------------------------------------------------


@bp.route("/outbox")
@requires("admin.outbox")
def outbox():
    """Mail waiting to be sent and mail sent, newest first."""
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    page = db.paginate(query, page=_page(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/outbox.html", page=page)
