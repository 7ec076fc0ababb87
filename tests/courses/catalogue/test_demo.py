"""The catalogue's demo: the four programmes, 300 NOVA learners, selection, idempotent, usable dashboards."""

from sqlalchemy import func, select

from courses.catalogue.models import (
    Cohort,
    Enrolment,
    Programme,
    SelectionDecision,
    SelectionScore,
    Session,
)
from lms.database import utcnow
from lms.demo import build_demo
from lms.extensions import db
from lms.models import Membership, User
from tests.helpers import login_as


def _counts():
    return {model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Programme, Cohort, Enrolment, Session, User, Membership, SelectionScore)}  # fmt: skip


def test_demo_builds_the_programmes_once_and_learners_have_something_next(app, tmp_path):
    app.instance_path = str(tmp_path)  # demo-accounts.json goes here, not into the developer's instance/
    with app.app_context():
        ctx = build_demo()
        first = _counts()
        codes = set(db.session.execute(select(Programme.code)).scalars())
        assert {"SMIS-300609", "EaSI-NOVA-RS", "IPA2016-SKGO-VALJEVO", "IPA-HRD-MK-2015-SI"} <= codes
        nova = dict(db.session.execute(
            select(Cohort.city, func.count(Enrolment.id)).join(Enrolment).where(Cohort.name.like("NOVA%"))
            .group_by(Cohort.city)
        ).all())  # fmt: skip
        assert nova == {"Belgrade": 100, "Niš": 100, "Novi Sad": 100}
        assert db.session.execute(select(func.count(User.id)).where(User.username.like("nova.%"),
                                                                    User.email.is_(None))).scalar_one() > 30  # fmt: skip
        assert db.session.execute(select(func.count(SelectionDecision.id))).scalar_one() > 0
        assert db.session.execute(select(func.count(Session.id)).where(Session.starts_at > utcnow())).scalar_one() > 50
        accounts = {(a["username"], a["role"]) for a in ctx.accounts}
        assert {("pm.rs", "programme_manager"), ("trainer.mk", "trainer"), ("mentor.rs", "mentor"),
                ("learner.esa1", "learner"), ("nova.bg.001", "learner")} <= accounts  # fmt: skip
        password = next(a["password"] for a in ctx.accounts if a["username"] == "learner.esa1")
        build_demo()
        assert _counts() == first
    client = app.test_client()
    login_as(client, "learner.esa1", password)
    page = client.get("/").get_data(as_text=True)
    # learner.esa1 reads Macedonian: check the panel, the session's place and the progress bar, not English words.
    assert 'id="what-next"' in page and "Employment Service Agency, Skopje" in page and 'value="3"' in page
