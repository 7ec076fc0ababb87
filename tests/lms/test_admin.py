"""Administration pages: people, organisations, roles, invitations, outbox; organisation managers' people pages."""

from datetime import date, timedelta

import pytest

from lms.extensions import db
from lms.models import AuditEvent, Membership, Organisation, OutboxMessage, User
from tests.helpers import create_user, csrf_token, login_as


@pytest.fixture
def admin(make_user):
    """A site administrator."""
    return make_user("root", roles=[("administrator", "site", None)], first_name="Ana", last_name="Admin")


@pytest.fixture
def organisations(app):
    """Two organisations: an employment centre and a centre for social work."""
    with app.app_context():
        esa = Organisation(name="Employment Centre Skopje", kind="employment_centre", city="Skopje")
        csw = Organisation(name="Centre for Social Work Valjevo", kind="social_work_centre", city="Valjevo")
        db.session.add_all([esa, csw])
        db.session.commit()
        return esa.id, csw.id


def _post(client, path, data, form_path=None):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, form_path or path)})


def _person(**fields):
    return {
        "username": "",
        "email": "",
        "phone": "",
        "first_name": "",
        "last_name": "",
        "first_name_alt": "",
        "last_name_alt": "",
        "locale": "",
        **fields,
    }


def _user(app, username):
    with app.app_context():
        return db.session.query(User).filter_by(username=username).one_or_none()


def test_administrator_creates_a_person_without_email_with_names_in_two_scripts(app, client, admin):
    login_as(client, admin)
    response = _post(
        client,
        "/admin/users/new",
        _person(username="dejan.r", first_name="Dejan", last_name="Ristić", first_name_alt="Дејан",
                last_name_alt="Ристић", phone="+381 64 123 45 67", locale="sr_Latn"),
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dejan Ristić" in page and "Дејан Ристић" in page and "+381641234567" in page
    person = _user(app, "dejan.r")
    assert person.email is None and person.password_hash is None and person.locale == "sr_Latn"
    with app.app_context():
        assert AuditEvent.query.filter_by(action="user.created", object_id=str(person.id)).count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "ROOT"}, "This username is already in use."),
        ({"email": "not-an-address"}, "Enter a valid e-mail address."),
        ({"email": "ROOT@example.org"}, "This e-mail address is already in use."),
        ({"phone": "call me"}, "Enter a phone number with digits only"),
        ({"username": "has space"}, "Use letters, digits, dots, dashes and underscores only."),
        ({"first_name": ""}, "Enter a first name."),
    ],
)
def test_bad_person_details_are_explained_and_nothing_is_created(app, client, make_user, fields, message):
    make_user("root", roles=[("administrator", "site", None)], email="root@example.org")
    login_as(client, "root")
    data = _person(**{"username": "new.person", "first_name": "Nova", "last_name": "Osoba", **fields})
    response = _post(client, "/admin/users/new", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert User.query.count() == 1


def test_search_by_name_in_either_script_username_or_email_never_puts_it_in_the_url(app, client, admin):
    with app.app_context():
        create_user("biljana.k", first_name="Biljana", last_name="Kostova", first_name_alt="Билјана",
                    last_name_alt="Костова", email="biljana@example.org")  # fmt: skip
        create_user("marko.p", first_name="Marko", last_name="Petrović")
    login_as(client, admin)
    for text in ("Костова", "костова", "kostova", "biljana.k", "BILJANA@example", "ljana"):
        response = _post(client, "/admin/users", {"q": text})
        assert response.status_code == 302 and text not in response.headers["Location"]
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Biljana Kostova" in page and "Marko Petrović" not in page, text
    everyone = _post(client, "/admin/users", {"q": "kostova", "clear": "1"})
    assert "Marko Petrović" in client.get(everyone.headers["Location"]).get_data(as_text=True)


def test_people_list_is_paginated_and_filtered_by_organisation(app, client, admin, organisations):
    esa, csw = organisations
    with app.app_context():
        for n in range(30):
            create_user(f"learner{n:02d}", first_name="Learner", last_name=f"N{n:02d}",
                        roles=[("member", "organisation", esa if n < 3 else csw)])  # fmt: skip
    login_as(client, admin)
    first = client.get("/admin/users").get_data(as_text=True)
    assert "31 people found" in first and "Page 1 of 2" in first and "Next page" in first
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "Learner N29" in second and "Learner N00" not in second
    filtered = client.get(f"/admin/users?organisation={esa}").get_data(as_text=True)
    assert "3 people found" in filtered and "Learner N02" in filtered and "Learner N03" not in filtered


def test_editing_a_person(app, client, admin):
    with app.app_context():
        person = create_user("elena", first_name="Elena", last_name="Dumitru")
    login_as(client, admin)
    path = f"/admin/users/{person.id}/edit"
    response = _post(client, path, _person(username="elena.d", first_name="Elena", last_name="Dumitrescu",
                                           email="Elena@Example.org"))  # fmt: skip
    assert response.status_code == 302
    changed = _user(app, "elena.d")
    assert changed.last_name == "Dumitrescu" and changed.email == "elena@example.org"


def test_deactivation_needs_a_reason_ends_sessions_and_can_be_undone(app, client, admin, make_user):
    person = make_user("mira")
    their_browser = app.test_client()
    login_as(their_browser, "mira")
    assert their_browser.get("/").status_code == 200
    login_as(client, admin)
    path = f"/admin/users/{person.id}/active"
    form_path = f"/admin/users/{person.id}"

    refused = _post(client, path, {"reason": ""}, form_path)
    assert "Give a reason" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert _user(app, "mira").active

    _post(client, path, {"reason": "Left the programme"}, form_path)
    assert not _user(app, "mira").active
    assert their_browser.get("/").status_code == 302  # signed out at once
    with app.app_context():
        event = AuditEvent.query.filter_by(action="user.deactivated").one()
        assert event.reason == "Left the programme"

    _post(client, path, {"reason": ""}, form_path)
    assert _user(app, "mira").active


def test_administrator_cannot_deactivate_themselves(app, client, admin):
    login_as(client, admin)
    response = _post(client, f"/admin/users/{admin.id}/active", {"reason": "oops"}, f"/admin/users/{admin.id}")
    assert "You cannot deactivate your own account." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _user(app, "root").active


def test_organisations_are_created_and_edited_with_translated_kinds(app, client, admin):
    login_as(client, admin)
    new = client.get("/admin/organisations/new").get_data(as_text=True)
    for label in ("Employment centre", "Centre for social work", "NGO", "Employer", "Training provider",
                  "Public authority"):  # fmt: skip
        assert label in new
    bad = _post(client, "/admin/organisations/new", {"name": "Roma Centre", "kind": "ngo", "country": "Serbia"})
    assert "two-letter country code" in bad.get_data(as_text=True)
    response = _post(
        client, "/admin/organisations/new", {"name": "Roma Centre", "kind": "ngo", "country": "rs", "active": "y"}
    )
    assert response.status_code == 302
    with app.app_context():
        organisation = Organisation.query.filter_by(name="Roma Centre").one()
        assert organisation.country == "RS" and organisation.active
    listing = client.get("/admin/organisations").get_data(as_text=True)
    assert "Roma Centre" in listing and "Non-governmental organisation (NGO)" in listing
    _post(client, f"/admin/organisations/{organisation.id}/edit", {"name": "Roma Centre Valjevo", "kind": "employer"})
    with app.app_context():
        changed = db.session.get(Organisation, organisation.id)
        assert (changed.name, changed.kind, changed.active) == ("Roma Centre Valjevo", "employer", False)


def test_roles_are_granted_with_periods_and_revoked(app, client, admin, organisations):
    esa, _csw = organisations
    person = create_user_in(app, "katja")
    login_as(client, admin)
    path = f"/admin/users/{person.id}/roles/new"
    base = {"organisation_id": "0", "scope_id": "", "valid_from": "", "valid_until": ""}

    no_end = _post(client, path, {**base, "role": "auditor", "scope_type": "programme", "scope_id": "4"})
    assert "An auditor&#39;s access needs an end date." in no_end.get_data(as_text=True)
    no_number = _post(client, path, {**base, "role": "trainer", "scope_type": "cohort"})
    assert "Enter the programme or cohort number." in no_number.get_data(as_text=True)
    with app.app_context():
        assert Membership.query.filter_by(user_id=person.id).count() == 0

    until = (date.today() + timedelta(days=90)).isoformat()
    granted = _post(
        client, path, {**base, "role": "auditor", "scope_type": "programme", "scope_id": "4", "valid_until": until}
    )
    assert granted.status_code == 302
    _post(client, path, {**base, "role": "member", "scope_type": "organisation", "organisation_id": str(esa)})
    page = client.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "Auditor" in page and until in page and "Employment Centre Skopje" in page and "Member of staff" in page
    twice = _post(client, path, {**base, "role": "member", "scope_type": "organisation", "organisation_id": str(esa)})
    assert "already holds that role" in twice.get_data(as_text=True)

    with app.app_context():
        auditor = Membership.query.filter_by(user_id=person.id, role="auditor").one()
    _post(client, f"/admin/memberships/{auditor.id}/revoke", {"reason": "Audit finished"}, f"/admin/users/{person.id}")
    with app.app_context():
        assert Membership.query.filter_by(user_id=person.id).count() == 1
        assert AuditEvent.query.filter_by(action="membership.revoked").one().reason == "Audit finished"


def create_user_in(app, username, **kwargs):
    """A committed person (the fixtures' helper, inside an application context)."""
    with app.app_context():
        return create_user(username, **kwargs)


def test_the_last_administrator_keeps_the_role(app, client, admin):
    login_as(client, admin)
    with app.app_context():
        membership = Membership.query.filter_by(user_id=admin.id).one()
    response = _post(client, f"/admin/memberships/{membership.id}/revoke", {}, f"/admin/users/{admin.id}")
    assert "last administrator" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert Membership.query.filter_by(user_id=admin.id).count() == 1


def test_invitation_is_queued_for_a_person_with_email_only(app, client, admin):
    with_email = create_user_in(app, "goran", email="goran@example.org")
    without = create_user_in(app, "fatime")
    login_as(client, admin)
    sent = _post(client, f"/admin/users/{with_email.id}/invite", {}, f"/admin/users/{with_email.id}")
    assert "An invitation was sent to goran@example.org." in client.get(sent.headers["Location"]).get_data(as_text=True)
    refused = _post(client, f"/admin/users/{without.id}/invite", {}, f"/admin/users/{without.id}")
    assert "has no e-mail address" in client.get(refused.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert [m.to_address for m in OutboxMessage.query.all()] == ["goran@example.org"]
    outbox = client.get("/admin/outbox").get_data(as_text=True)
    assert "goran@example.org" in outbox


def test_outbox_and_administration_are_for_administrators_only(app, client, make_user, organisations):
    esa, _csw = organisations
    make_user("manager", roles=[("organisation_manager", "organisation", esa)])
    with app.app_context():
        db.session.add(OutboxMessage(to_address="someone@example.org", subject="Secret subject", body="x"))
        db.session.commit()
    login_as(client, "manager")
    for path in ("/admin/", "/admin/outbox", "/admin/users", "/admin/organisations", "/admin/users/new"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Secret subject" not in response.get_data(as_text=True)


def test_navigation_shows_administration_or_my_organisation(client, admin, make_user, organisations):
    esa, _csw = organisations
    make_user("manager", roles=[("organisation_manager", "organisation", esa)])
    make_user("learner", roles=[("member", "organisation", esa)])
    login_as(client, admin)
    page = client.get("/").get_data(as_text=True)
    assert "Administration" in page and "My organisation" not in page
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as(client, "manager")
    page = client.get("/").get_data(as_text=True)
    assert "My organisation" in page and "Administration" not in page
    assert client.get("/admin/my-organisation").headers["Location"].endswith(f"/admin/organisations/{esa}/people")
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    login_as(client, "learner")
    page = client.get("/").get_data(as_text=True)
    assert "My organisation" not in page and "Administration" not in page


def test_manager_adds_a_member_without_email_to_own_organisation_only(app, client, make_user, organisations):
    esa, csw = organisations
    make_user("manager", roles=[("organisation_manager", "organisation", esa)])
    make_user("other.member", first_name="Zoran", last_name="Ilić", roles=[("member", "organisation", csw)])
    login_as(client, "manager")
    path = f"/admin/organisations/{esa}/people/new"
    response = _post(client, path, _person(username="fatime.r", first_name="Fatime", last_name="Ramadani"))
    assert response.status_code == 302
    people = client.get(f"/admin/organisations/{esa}/people").get_data(as_text=True)
    assert "Fatime Ramadani" in people and "Member of staff" in people and "Zoran Ilić" not in people
    with app.app_context():
        person = User.query.filter_by(username="fatime.r").one()
        assert person.email is None
        assert [(m.role, m.scope_type, m.scope_id) for m in person.memberships] == [("member", "organisation", esa)]

    assert client.get(f"/admin/organisations/{csw}/people").status_code == 403
    other = client.post(f"/admin/organisations/{csw}/people/new", data={**_person(username="x", first_name="X",
                        last_name="Y"), "csrf_token": csrf_token(client, path)})  # fmt: skip
    assert other.status_code == 403
    assert _user(app, "x") is None


def test_administrator_sees_every_organisations_people(client, admin, make_user, organisations):
    esa, csw = organisations
    make_user("other.member", first_name="Zoran", last_name="Ilić", roles=[("member", "organisation", csw)])
    login_as(client, admin)
    assert "Zoran Ilić" in client.get(f"/admin/organisations/{csw}/people").get_data(as_text=True)
    assert client.get(f"/admin/organisations/{esa}/people").status_code == 200
