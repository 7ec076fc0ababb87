"""Every route names an action some plugin declares, and every non-public route refuses a signed-out visitor."""

import pytest

from lms.access import route_action
from lms.models import ROLES
from lms.plugins import permissions
from tests.tenant_fixtures import build_world, load_plugin_fixtures, methods_of, request, routes_needing_sign_in

IMPLICIT_ROLES = {"anonymous", "authenticated", "owner"}


@pytest.fixture
def app_config(app_config):
    """Forms are posted without CSRF tokens: the sign-in check must come first, whatever the form."""
    return {**app_config, "WTF_CSRF_ENABLED": False}


def test_every_route_declares_a_known_action(app):
    with app.app_context():
        table = permissions()
    problems = []
    for rule in app.url_map.iter_rules():
        action = route_action(app.view_functions[rule.endpoint])
        if action is None:
            problems.append(f"{rule.rule} ({rule.endpoint}) declares no action: add @requires(...)")
        elif action not in table:
            problems.append(
                f"{rule.rule} ({rule.endpoint}) performs {action!r}, which no plugin's lms_permissions declares"
            )
    assert not problems, "\n".join(problems)
    assert len(list(app.url_map.iter_rules())) > 10


def test_declared_actions_name_only_known_roles(app):
    with app.app_context():
        table = permissions()
    unknown = {action: sorted(roles - set(ROLES) - IMPLICIT_ROLES) for action, roles in table.items()}
    assert not {action: roles for action, roles in unknown.items() if roles}


def test_signed_out_visitors_are_sent_to_sign_in(app, client):
    load_plugin_fixtures()
    with app.app_context():
        world = build_world()
    routes = routes_needing_sign_in(app, world)
    assert any(rule.endpoint == "admin.users" for rule, _, _ in routes)
    problems = []
    for rule, _action, path in routes:
        for method in methods_of(rule):
            response = request(client, method, path)
            if path.startswith("/api/"):
                if response.status_code != 401:
                    problems.append(f"{method} {path}: {response.status_code}, expected 401")
            elif response.status_code != 302 or "/auth/login" not in response.headers.get("Location", ""):
                problems.append(f"{method} {path}: {response.status_code}, expected a redirect to sign in")
    assert not problems, "Pages open to signed-out visitors:\n" + "\n".join(problems)
