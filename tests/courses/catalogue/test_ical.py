"""The secret calendar feed: sessions as RFC 5545 events, regenerate and revoke, no person in the URL."""

import re

from sqlalchemy import select

from courses.catalogue import ical, services
from courses.catalogue.models import CalendarFeed, Cohort, Session
from lms.extensions import db
from lms.models import User
from tests.courses.catalogue.factories import build_course
from tests.helpers import csrf_token


def _setup(app, make_user):
    admin = make_user("cal_admin", roles=[("administrator", "site", None)])
    with app.app_context():
        _p, _c, cohort = build_course(db.session.get(User, admin.id), code="CAL-1", sessions=2)
        session = db.session.execute(select(Session).where(Session.cohort_id == cohort.id)).scalars().first()
        session.place = "Centre, room 2; ground floor"
        session.title = "Motivational interviewing: practice with role plays and feedback from the trainer, part one"
        db.session.commit()
        cohort_id = cohort.id
    learner = make_user("cal_learner", email="cal@example.org")
    with app.app_context():
        services.enrol(db.session.get(User, learner.id), db.session.get(Cohort, cohort_id), None)
    return learner


def _create(client):
    token = csrf_token(client, "/catalogue/calendar/feed")
    page = client.post("/catalogue/calendar/feed", data={"csrf_token": token, "action": "create"})
    return re.search(r'value="(http[^"]+\.ics)"', page.get_data(as_text=True)).group(1)


def test_feed_lists_the_learners_sessions_in_utc(app, client, login, make_user):
    learner = _setup(app, make_user)
    login(learner)
    url = _create(client)
    assert "cal_learner" not in url and "cal@example.org" not in url
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})
    response = app.test_client().get(url.replace("http://localhost", ""))
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    body = response.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert body.count("BEGIN:VEVENT") == 2
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    unfolded = body.replace("\r\n ", "")
    assert "LOCATION:Centre\\, room 2\\; ground floor" in unfolded
    assert "part one" in unfolded and re.search(r"DTSTART:\d{8}T\d{6}Z", unfolded)
    with app.app_context():
        first = db.session.execute(select(Session).order_by(Session.starts_at)).scalars().first()
        assert f"UID:session-{first.id}@" in unfolded
        assert f"DTSTART:{first.starts_at:%Y%m%dT%H%M%S}Z" in unfolded  # stored UTC, written as UTC


def test_regenerate_and_revoke_end_the_old_address(app, client, login, make_user):
    learner = _setup(app, make_user)
    login(learner)
    first = _create(client).replace("http://localhost", "")
    second = _create(client).replace("http://localhost", "")
    assert client.get(first).status_code == 404 and client.get(second).status_code == 200
    client.post("/catalogue/calendar/feed", data={"csrf_token": csrf_token(client, "/catalogue/calendar/feed"),
                                                  "action": "revoke"})  # fmt: skip
    assert client.get(second).status_code == 404
    assert app.test_client().get("/catalogue/calendar/not-a-token.ics").status_code == 404
    with app.app_context():
        feeds = db.session.execute(select(CalendarFeed)).scalars().all()
        assert len(feeds) == 2 and all(feed.revoked_at for feed in feeds)
        assert all(second.split("/")[-1][:-4] not in feed.token_hash for feed in feeds)  # only the hash is kept


def test_folding_never_splits_a_character():
    line = "SUMMARY:" + "Ѓорѓи Ќосев – обука за ментори " * 5
    folded = ical.fold(line)
    parts = folded.split("\r\n ")
    assert all(len(part.encode()) <= 75 for part in parts) and "".join(parts) == line
    assert ical.escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_online_session_shows_its_link(app, make_user):
    learner = _setup(app, make_user)
    with app.app_context():
        session = db.session.execute(select(Session)).scalars().first()
        session.mode, session.place, session.meeting_url = "online", "", "https://meet.example.org/abc"
        db.session.commit()
        text = ical.calendar_text(db.session.get(User, learner.id), "pathways.example")
    assert "LOCATION:https://meet.example.org/abc" in text and "URL:https://meet.example.org/abc" in text
