"""Two organisations with their people, and the registry of "organisation B's objects" for route arguments.

The tenant matrix (tests/lms/test_tenant_matrix.py) signs in as each of organisation A's people and
requests every route of ``app.url_map`` that takes an argument, with the argument pointing at one of
organisation B's objects; the route-access test (tests/lms/test_routes_access.py) uses the same values
to check that signed-out visitors are refused. A route argument this registry does not know fails
both tests, so **a plugin that adds a route with an argument registers a fixture for it**::

    # tests/<your plugin>/tenant_fixtures.py (found automatically), or right here
    from tests.tenant_fixtures import tenant_fixture

    @tenant_fixture("cohort_id")
    def cohort_of_b(world):
        cohort = Cohort(id=world.b.cohort_id, ...)  # B's trainer and learner already hold roles on this id
        db.session.add(cohort)
        db.session.commit()
        return cohort.id

A fixture receives the :class:`World` (inside an application context), creates or finds one object
that belongs to organisation B, and returns the URL value. Register it under the argument name
(``"cohort_id"``) or, when one name means different things on different routes, under
``"<endpoint>:<argument>"`` (``"certificates.download:code"``), which wins over the plain name.
Names a fixture creates that should never be shown to A's people go into ``world.b.secrets``.
"""

import importlib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from lms.auth.services import token_digest
from lms.database import utcnow
from lms.extensions import db
from lms.models import ApiToken, Membership, Organisation
from tests.helpers import create_user

TENANT_FIXTURES: dict = {}
ROLES_OF_A_SIDE = ("organisation_manager", "member", "trainer", "auditor", "learner")


def tenant_fixture(name: str):
    """Register ``fn(world) -> URL value`` for a route argument (or ``"endpoint:argument"``)."""

    def decorator(fn):
        TENANT_FIXTURES[name] = fn
        return fn

    return decorator


@dataclass
class Side:
    """One organisation and its people; ``programme_id``/``cohort_id`` are the scopes its staff hold roles in."""

    key: str
    organisation: Organisation
    programme_id: int
    cohort_id: int
    people: dict = field(default_factory=dict)
    secrets: set = field(default_factory=set)

    def people_names(self) -> set[str]:
        """Every name (both scripts), username and e-mail address of this side's people."""
        found = set()
        for person in self.people.values():
            found |= {person.display_name, person.username, person.email, person.first_name_alt, person.last_name_alt}
        return {name for name in found if name}

    def names(self) -> set[str]:
        """The people's names, the organisation's names and whatever fixtures registered in ``secrets``."""
        return (
            self.people_names()
            | {name for name in (self.organisation.name, self.organisation.name_alt) if name}
            | self.secrets
        )


@dataclass
class World:
    """Organisations A and B with one person per role each, and a site administrator."""

    a: Side
    b: Side
    administrator: object
    values: dict = field(default_factory=dict)

    def value(self, endpoint: str, argument: str):
        """The URL value of organisation B's object for a route argument (created on first use); KeyError if unknown."""
        key = f"{endpoint}:{argument}" if f"{endpoint}:{argument}" in TENANT_FIXTURES else argument
        if key not in self.values:
            self.values[key] = TENANT_FIXTURES[key](self)
        return self.values[key]


# (first name, last name, names in the other script) per side and role: distinct, so a leak is unmistakable.
PEOPLE = {
    "a": {
        "organisation_manager": ("Arta", "Alimani", None, None),
        "member": ("Aleksa", "Andrić", "Алекса", "Андрић"),
        "trainer": ("Adriana", "Atanasova", "Адријана", "Атанасова"),
        "auditor": ("Agnes", "Ahlin", None, None),
        "learner": ("Aida", "Aliu", None, None),
    },
    "b": {
        "organisation_manager": ("Bojana", "Brankovska", "Бојана", "Бранковска"),
        "member": ("Blagoj", "Bogoevski", "Благој", "Богоевски"),
        "trainer": ("Bardhyl", "Berisha", None, None),
        "auditor": ("Borut", "Bizjak", None, None),
        "learner": ("Biljana", "Bozhinova", "Билјана", "Божинова"),
    },
}


def build_world() -> World:
    """Create both organisations and their people (inside an application context)."""
    sides = {}
    for key, (name, name_alt, programme_id, cohort_id) in {
        "a": ("Alpha Employment Centre", "Алфа центар за вработување", 11, 101),
        "b": ("Bravo Centre for Social Work", "Браво центар за социјална работа", 12, 102),
    }.items():
        organisation = Organisation(name=name, name_alt=name_alt, kind="employment_centre", city="Skopje")
        db.session.add(organisation)
        db.session.commit()
        db.session.refresh(organisation)
        db.session.expunge(organisation)  # read after the application context ends, like create_user's people
        side = Side(key, organisation, programme_id, cohort_id)
        scopes = {
            "organisation_manager": [("organisation_manager", "organisation", organisation.id)],
            "member": [("member", "organisation", organisation.id)],
            "trainer": [("trainer", "cohort", cohort_id), ("member", "organisation", organisation.id)],
            "auditor": [("auditor", "programme", programme_id)],
            "learner": [("learner", "cohort", cohort_id)],
        }
        for role, (first, last, first_alt, last_alt) in PEOPLE[key].items():
            side.people[role] = create_user(
                f"{key}_{role}",
                roles=scopes[role],
                email=f"{first.lower()}.{last.lower()}@{key}-org.example",
                first_name=first,
                last_name=last,
                first_name_alt=first_alt,
                last_name_alt=last_alt,
            )
        sides[key] = side
    # An auditor's access always ends; the matrix checks it while it still runs.
    db.session.execute(
        Membership.__table__.update()
        .where(Membership.role == "auditor")
        .values(valid_until=utcnow() + timedelta(days=30))
    )
    db.session.commit()
    administrator = create_user("site_admin", roles=[("administrator", "site", None)], first_name="Sidonija")
    return World(sides["a"], sides["b"], administrator)


def load_plugin_fixtures() -> None:
    """Import every ``tenant_fixtures.py`` under tests/ so plugins' registrations are in place."""
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("tenant_fixtures.py")):
        if path.parent == root:
            continue
        importlib.import_module(".".join(("tests", *path.relative_to(root).with_suffix("").parts)))


# --- the core's own route arguments --------------------------------------------------------------


@tenant_fixture("organisation_id")
def organisation_of_b(world):
    """Organisation B itself."""
    return world.b.organisation.id


@tenant_fixture("user_id")
def member_of_b(world):
    """A member of organisation B's staff."""
    return world.b.people["member"].id


@tenant_fixture("membership_id")
def membership_in_b(world):
    """B's member's membership of organisation B."""
    return (
        db.session.query(Membership.id)
        .filter_by(user_id=world.b.people["member"].id, scope_type="organisation", role="member")
        .scalar()
    )


@tenant_fixture("token_id")
def api_token_of_b(world):
    """An API token of B's member."""
    token = ApiToken(
        user_id=world.b.people["member"].id,
        name="Bravo sync script",
        token_hash=token_digest("pwy_bravo_tenant-matrix-token"),
        prefix="bravo",
        scopes="",
        expires_at=utcnow() + timedelta(days=30),
    )
    db.session.add(token)
    db.session.commit()
    world.b.secrets.add(token.name)
    return token.id


# --- walking the routes --------------------------------------------------------------------------

SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def rules_needing_sign_in(app):
    """Every rule of ``app.url_map`` whose action anonymous visitors may not perform, with that action."""
    from lms.access import route_action
    from lms.plugins import permissions

    with app.app_context():
        table = permissions()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        action = route_action(app.view_functions[rule.endpoint])
        if "anonymous" not in table.get(action, ()):
            yield rule, action


def methods_of(rule) -> list[str]:
    """The methods a rule answers, without the ones Werkzeug adds on its own."""
    return sorted(set(rule.methods) - SKIPPED_METHODS)


def path_for(rule, values: dict) -> str:
    """The path of ``rule`` with ``values`` filled in."""
    _domain, path = rule.build(values, append_unknown=False)
    return path


def fill(world: World, rule) -> tuple[dict, list[str]]:
    """URL values of organisation B's objects for ``rule``, and the arguments no fixture knows."""
    values, unknown = {}, []
    for argument in sorted(rule.arguments):
        try:
            values[argument] = world.value(rule.endpoint, argument)
        except KeyError:
            unknown.append(argument)
    return values, unknown


def routes_needing_sign_in(app, world: World) -> list[tuple[object, str, str]]:
    """``(rule, action, path)`` of every non-public route, its arguments pointing at organisation B's objects.

    Fails, naming every route and argument at once, when a route takes an argument no fixture knows.
    """
    routes, unknown = [], []
    with app.app_context():
        for rule, action in rules_needing_sign_in(app):
            values, missing = fill(world, rule)
            if missing:
                unknown.append(f"{rule.rule} ({rule.endpoint}): {', '.join(missing)}")
            else:
                routes.append((rule, action, path_for(rule, values)))
    assert not unknown, (
        "These routes take arguments that no tenant fixture fills with organisation B's objects; register one "
        "for each (see tests/tenant_fixtures.py):\n" + "\n".join(unknown)
    )
    return routes


def request(client, method: str, path: str, headers=None):
    """Send a request as a form or as JSON (under /api/), with an empty body: access is checked first."""
    if path.startswith("/api/"):
        return client.open(path, method=method, json={} if method != "GET" else None, headers=headers or {})
    return client.open(path, method=method, data={} if method != "GET" else None, headers=headers or {})
