"""``flask lms demo``: organisations and accounts like those of the programmes in shared/context.

Idempotent: a second run finds what the first made and creates nothing new; passwords already
handed out (in ``instance/demo-accounts.json``) stay valid. Plugins add their parts through
``lms_demo_data(ctx)``.
"""

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from . import audit
from .auth.passwords import check_password, hash_password
from .database import begin_write
from .extensions import db
from .models import Membership, Organisation, User
from .plugins import hook

DEMO_ORGANISATIONS = {
    "esa_skopje": ("Employment Service Agency – Centre Skopje", "Агенција за вработување – Центар Скопје",
                   "employment_centre", "Skopje", "MK"),
    "csw_skopje": ("Inter-municipal Centre for Social Work Skopje", "Меѓуопштински центар за социјална работа Скопје",
                   "social_work_centre", "Skopje", "MK"),
    "cair": ("Municipality of Čair", "Општина Чаир", "public_authority", "Skopje", "MK"),
    "nes_serbia": ("National Employment Service", "Национална служба за запошљавање", "employment_centre",
                   "Belgrade", "RS"),
    "red_cross_rs": ("Red Cross of Serbia", "Црвени крст Србије", "ngo", "Belgrade", "RS"),
    "roma_valjevo": ("Centre for Roma Integration Valjevo", "Centar za integraciju Roma Valjevo", "ngo",
                     "Valjevo", "RS"),
    "valjevo_employer": ("Valjevo Metal Works", "Ваљевска металска радња", "employer", "Valjevo", "RS"),
    "irssv": ("Social Protection Institute of the Republic of Slovenia",
              "Inštitut Republike Slovenije za socialno varstvo", "training_provider", "Ljubljana", "SI"),
    "asised": ("ASISED – Association for Social Involvement, Education and Culture",
               "Asociația pentru Implicare Socială, Educație și Cultură", "ngo", "Bucharest", "RO"),
    "apulum": ("Mediere Apulum Association", "Asociația „Mediere Apulum”", "ngo", "Alba Iulia", "RO"),
}  # fmt: skip

# username: (first, last, first_alt, last_alt, e-mail or None, locale, [(role, organisation key or None)])
DEMO_PEOPLE = {
    "admin": ("Ana", "Admin", None, None, "admin@pathways.example", "en", [("administrator", None)]),
    "pm.mk": ("Marija", "Petrovska", "Марија", "Петровска", "marija.petrovska@pathways.example", "mk", []),
    "pm.rs": ("Dragan", "Jovanović", "Драган", "Јовановић", "dragan.jovanovic@pathways.example", "sr_Latn", []),
    "pm.ro": ("Ioana", "Popescu", None, None, "ioana.popescu@pathways.example", "ro", []),
    "trainer.mk": ("Elena", "Stojanovska", "Елена", "Стојановска", "elena.stojanovska@pathways.example", "mk", []),
    "trainer.rs": ("Milan", "Nikolić", "Милан", "Николић", "milan.nikolic@pathways.example", "sr", []),
    "mentor.rs": ("Jelena", "Marković", "Јелена", "Марковић", "jelena.markovic@pathways.example", "sr_Latn", []),
    "supervisor.valjevo": ("Zoran", "Ilić", "Зоран", "Илић", None, "sr_Latn",
                           [("member", "valjevo_employer")]),
    "orgmgr.esa": ("Blerta", "Hasani", None, None, "blerta.hasani@pathways.example", "sq",
                   [("organisation_manager", "esa_skopje")]),
    "orgmgr.csw": ("Goran", "Trajkovski", "Горан", "Трајковски", "goran.trajkovski@pathways.example", "mk",
                   [("organisation_manager", "csw_skopje")]),
    "orgmgr.asised": ("Andrei", "Ionescu", None, None, "andrei.ionescu@pathways.example", "ro",
                      [("organisation_manager", "asised")]),
    "auditor": ("Katja", "Novak", None, None, "katja.novak@pathways.example", "sl", []),
    "learner.esa1": ("Aleksandar", "Dimitrov", "Александар", "Димитров", "aleksandar.dimitrov@pathways.example",
                     "mk", [("member", "esa_skopje")]),
    "learner.esa2": ("Fatime", "Ramadani", None, None, None, "sq", [("member", "esa_skopje")]),
    "learner.csw1": ("Biljana", "Kostova", "Билјана", "Костова", "biljana.kostova@pathways.example", "mk",
                     [("member", "csw_skopje")]),
    "learner.roma1": ("Dejan", "Ristić", "Дејан", "Ристић", None, "sr_Latn", [("member", "roma_valjevo")]),
    "learner.ro1": ("Elena", "Dumitru", None, None, "elena.dumitru@pathways.example", "ro", [("member", "asised")]),
}  # fmt: skip


@dataclass
class DemoContext:
    """What the demo has made so far, for plugins to build on, and the account list being written."""

    organisations: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    accounts: list[dict] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def grant(self, username: str, role: str, scope_type: str, scope_id, organisation: str = "") -> None:
        """Give a demo person a role (once) and list it in demo-accounts.json."""
        user = self.users[username]
        scope_id = None if scope_type == "site" else scope_id
        exists = db.session.execute(
            select(Membership.id).where(
                Membership.user_id == user.id,
                Membership.role == role,
                Membership.scope_type == scope_type,
                Membership.scope_id.is_(None) if scope_id is None else Membership.scope_id == scope_id,
            )
        ).first()
        if not exists:
            membership = Membership(user_id=user.id, role=role, scope_type=scope_type, scope_id=scope_id)
            db.session.add(membership)
            db.session.flush()
            audit.append("membership.granted", membership, subject=user, after={"role": role, "scope": scope_type})
        self.accounts.append(
            {
                "role": role,
                "email": user.email,
                "username": user.username,
                "password": self.passwords[username],
                "organisation": organisation,
            }
        )


def _accounts_file() -> Path:
    return Path(current_app.instance_path) / "demo-accounts.json"


def _known_passwords() -> dict[str, str]:
    try:
        return {entry["username"]: entry["password"] for entry in json.loads(_accounts_file().read_text())}
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return {}


def build_demo() -> DemoContext:
    """Create (or find) the demo organisations and people, let plugins add theirs, write the account list."""
    if current_app.config["ENV"] == "production":
        raise RuntimeError("The demo data must not be loaded into a production site.")
    begin_write()
    ctx = DemoContext(passwords=_known_passwords())
    for key, (name, name_alt, kind, city, country) in DEMO_ORGANISATIONS.items():
        org = db.session.execute(select(Organisation).where(Organisation.name == name)).scalar_one_or_none()
        if org is None:
            org = Organisation(name=name, name_alt=name_alt, kind=kind, city=city, country=country)
            db.session.add(org)
            db.session.flush()
            audit.append("organisation.created", org, after={"name": name, "kind": kind})
        ctx.organisations[key] = org
    for username, (first, last, first_alt, last_alt, email, locale, _roles) in DEMO_PEOPLE.items():
        password = ctx.passwords.setdefault(username, secrets.token_urlsafe(9))
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None:
            user = User(username=username, email=email, first_name=first, last_name=last,
                        first_name_alt=first_alt, last_name_alt=last_alt, locale=locale)  # fmt: skip
            db.session.add(user)
            db.session.flush()
            audit.append("user.created", user, subject=user, after={"username": username})
        if not check_password(user.password_hash, password):
            user.password_hash = hash_password(password)
        ctx.users[username] = user
    for username, (*_, roles) in DEMO_PEOPLE.items():
        for role, org_key in roles:
            if org_key is None:
                ctx.grant(username, role, "site", None)
            else:
                org = ctx.organisations[org_key]
                ctx.grant(username, role, "organisation", org.id, organisation=org.name)
    hook().lms_demo_data(ctx=ctx)
    db.session.commit()
    _write_accounts(ctx.accounts)
    return ctx


def _write_accounts(accounts: list[dict]) -> None:
    path = _accounts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(accounts, fh, ensure_ascii=False, indent=2)
    os.chmod(path, 0o600)
