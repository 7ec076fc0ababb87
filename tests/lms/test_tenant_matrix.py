"""Organisation A's people cannot reach organisation B's objects on any route, present or added later by a plugin.

Routes come from ``app.url_map``; their arguments are filled with B's objects from the registry in
tests/tenant_fixtures.py (plugins register theirs there). Each of A's people (organisation manager,
member, trainer, cohort learner, programme auditor) must get 403 or 404 and never see a name of B's.
"""

import json
import secrets
from datetime import timedelta

import pytest

from lms.auth.services import token_digest
from lms.database import utcnow
from lms.extensions import db
from lms.models import ApiToken, AuditEvent
from tests.helpers import login_as
from tests.tenant_fixtures import (
    ROLES_OF_A_SIDE,
    build_world,
    load_plugin_fixtures,
    methods_of,
    request,
    routes_needing_sign_in,
)

REFUSED = (403, 404)


@pytest.fixture
def app_config(app_config):
    """Forms are posted without CSRF tokens: the matrix is about who may act, which is checked before the form."""
    return {**app_config, "WTF_CSRF_ENABLED": False}


@pytest.fixture
def world(app):
    """Organisations A and B with their people."""
    load_plugin_fixtures()
    with app.app_context():
        return build_world()


def _bearer(app, user) -> dict:
    """An Authorization header with a token holding every scope the enabled plugins declare."""
    from lms.api.auth import scopes

    secret = f"pwy_{secrets.token_hex(4)}_{secrets.token_urlsafe(24)}"
    with app.app_context():
        db.session.add(
            ApiToken(
                user_id=user.id,
                name="matrix",
                token_hash=token_digest(secret),
                prefix=secret.split("_")[1],
                scopes=" ".join(scopes()),
                expires_at=utcnow() + timedelta(days=1),
            )
        )
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _browser(app, user):
    """A signed-in browser for ``user`` and, when the site has an API, the headers of a token of theirs."""
    client = app.test_client()
    assert login_as(client, user).status_code == 302
    has_api = any(rule.rule.startswith("/api/") for rule in app.url_map.iter_rules())
    return client, (_bearer(app, user) if has_api else {})


def _text(response) -> str:
    """The body as a person or a script reads it: JSON escapes non-ASCII letters, so it is decoded first."""
    body = response.get_data(as_text=True)
    if response.is_json:
        body += json.dumps(response.get_json(silent=True), ensure_ascii=False)
    return body


def _leaks(body: str, names: set[str]) -> list[str]:
    return sorted(name for name in names if name in body)


def test_organisation_a_cannot_reach_organisation_b(app, world):
    routes = routes_needing_sign_in(app, world)
    assert any(rule.endpoint == "admin.organisation_people" for rule, _, _ in routes), "the matrix found no routes"
    b_names, b_people = world.b.names(), world.b.people_names()
    problems = []
    for role in ROLES_OF_A_SIDE:
        client, api_headers = _browser(app, world.a.people[role])
        for rule, _action, path in routes:
            headers = api_headers if path.startswith("/api/") else {}
            for method in methods_of(rule):
                if not rule.arguments and method != "GET":
                    continue  # pages without an object: reading them must not show B's people
                response = request(client, method, path, headers)
                if rule.arguments and response.status_code not in REFUSED:
                    problems.append(f"{role} {method} {path}: {response.status_code}, expected 403 or 404")
                if leaked := _leaks(_text(response), b_names if rule.arguments else b_people):
                    problems.append(f"{role} {method} {path}: shows {', '.join(leaked)}")
    assert not problems, "Organisation A's people reached organisation B:\n" + "\n".join(problems)


def test_matrix_objects_exist_so_refusals_mean_something(app, world):
    """The administrator opens every GET route with B's objects: none is missing, and B's names do show.

    Otherwise the matrix's refusals and its leak check could pass without proving anything.
    """
    client, api_headers = _browser(app, world.administrator)
    shown = set()
    for rule, _action, path in routes_needing_sign_in(app, world):
        if rule.arguments and "GET" in rule.methods:
            response = request(client, "GET", path, api_headers if path.startswith("/api/") else {})
            assert response.status_code != 404, f"{path}: the fixture names no existing object"
            shown.update(_leaks(_text(response), world.b.names()))
    assert {"Bravo Centre for Social Work", "Bojana Brankovska", "Бојана"} <= shown


def test_manager_sees_only_own_people_and_the_refusal_is_audited(app, world, client):
    a_people, b_organisation = world.a.organisation, world.b.organisation
    login_as(client, world.a.people["organisation_manager"])

    own = client.get(f"/admin/organisations/{a_people.id}/people").get_data(as_text=True)
    assert "Aleksa Andrić" in own and "Адријана Атанасова" in own
    assert not _leaks(own, world.b.names())

    refused = client.get(f"/admin/organisations/{b_organisation.id}/people")
    assert refused.status_code == 403
    assert not _leaks(refused.get_data(as_text=True), world.b.names())
    with app.app_context():
        denials = AuditEvent.query.filter_by(
            action="access.denied",
            object_type="lms_organisation",
            object_id=str(b_organisation.id),
            actor=world.a.people["organisation_manager"].pseudonym,
        ).all()
    assert [event.reason for event in denials] == ["organisation.people_view"]


def test_b_people_are_in_the_matrix_names(world):
    """The leak check looks for every kind of identifier: names in both scripts, usernames, e-mail addresses."""
    names = world.b.names()
    assert {"Bojana Brankovska", "Бранковска", "b_member", "blagoj.bogoevski@b-org.example"} <= names
    assert "Bravo Centre for Social Work" in names
