"""Pages served again from the page cache: never stale after a change, never someone else's, never a flash twice."""

import re
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Engine

from lms import page_cache
from lms.admin.services import USER_FIELDS, update_user
from lms.extensions import db
from lms.models import AuthSession, DataGeneration, Membership, User
from tests.courses.catalogue.test_views import count_queries
from tests.helpers import csrf_token, login_as, logout


def _rename(user: User, first_name: str) -> None:
    update_user(user, {**{name: getattr(user, name) for name in USER_FIELDS}, "first_name": first_name})


def _generation() -> int:
    db.session.rollback()  # a fresh read, not this session's snapshot
    return db.session.execute(select(DataGeneration.value)).scalar_one()


def test_data_generation_moves_with_committed_changes_only(app, make_user):
    with app.app_context():
        mira = db.session.get(User, make_user("mira").id)
        db.session.commit()
        start = _generation()
        _rename(mira, "Mirjana")
        assert _generation() == start + 1
        mira.first_name = "Never saved"
        db.session.flush()
        db.session.rollback()
        assert _generation() == start + 1
        db.session.execute(text("UPDATE lms_user SET last_name = 'Raw' WHERE username = 'mira'"))
        db.session.commit()
        assert _generation() == start + 2
        # Touching a session's last use is bookkeeping that no page shows: cached pages stay valid.
        db.session.execute(update(AuthSession).values(last_seen_at=AuthSession.last_seen_at))
        db.session.commit()
        assert _generation() == start + 2


def test_dashboard_served_again_runs_only_the_session_query(app, client, make_user):
    make_user("mira")
    login_as(client, "mira")
    assert client.get("/").status_code == 200
    with count_queries(app) as statements:
        page = client.get("/")
    assert page.status_code == 200 and "Welcome, Mira Test" in page.get_data(as_text=True)
    assert [s for s in statements if s.strip().upper() not in ("BEGIN", "SELECT 1")] == [
        s for s in statements if "lms_auth_session" in s
    ]
    assert len([s for s in statements if "lms_auth_session" in s]) == 1


def test_a_change_shows_on_the_next_request(app, client, make_user):
    make_user("mira")
    login_as(client, "mira")
    assert "Welcome, Mira Test" in client.get("/").get_data(as_text=True)
    with app.app_context():
        _rename(db.session.execute(select(User).filter_by(username="mira")).scalar_one(), "Mirjana")
    assert "Welcome, Mirjana Test" in client.get("/").get_data(as_text=True)


def test_pages_are_never_served_to_someone_else(app, make_user):
    browsers = {}
    for name in ("mira", "ana"):
        make_user(name)
        browsers[name] = app.test_client()
        login_as(browsers[name], name)
    for _ in range(2):
        assert "Welcome, Mira Test" in browsers["mira"].get("/").get_data(as_text=True)
        ana = browsers["ana"].get("/").get_data(as_text=True)
        assert "Welcome, Ana Test" in ana and "Mira" not in ana


def test_a_cached_page_carries_the_form_token_of_the_session_that_asks(app, make_user):
    make_user("mira")
    first, second = app.test_client(), app.test_client()
    for browser in (first, second):
        login_as(browser, "mira")
    first_token, second_token = csrf_token(first, "/"), csrf_token(second, "/")
    assert first_token != second_token
    assert "lms-form-token-" not in second.get("/").get_data(as_text=True)
    assert second.post("/auth/logout", data={"csrf_token": second_token}).status_code == 302
    assert second.get("/").status_code == 302  # signed out with the token of the page served from the cache
    assert first.get("/").status_code == 200


def test_a_flashed_message_is_shown_once(client, make_user):
    make_user("mira")
    assert client.get("/auth/login").status_code == 200  # the sign-in form, now in the cache
    login_as(client, "mira")
    logout(client)
    assert "You have signed out." in client.get("/auth/login").get_data(as_text=True)
    assert "You have signed out." not in client.get("/auth/login").get_data(as_text=True)


def test_the_sign_in_form_from_the_cache_signs_in(app, make_user):
    make_user("mira")
    assert app.test_client().get("/auth/login").status_code == 200
    browser = app.test_client()
    html = browser.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = browser.post("/auth/login", data={"login": "mira", "password": "correct horse battery staple",
                                                  "csrf_token": token})  # fmt: skip
    assert response.status_code == 302


def test_entries_expire_and_the_least_recently_used_go_first(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: clock[0])
    cache = page_cache.PageCache(seconds=60, entries=2)
    cache.put(("a",), "A")
    cache.put(("b",), "B")
    assert cache.get(("a",)) == "A"
    cache.put(("c",), "C")  # "b" was used least recently
    assert cache.get(("b",)) is None and cache.get(("a",)) == "A" and cache.get(("c",)) == "C"
    clock[0] += 61
    assert cache.get(("a",)) is None


def test_no_cache_when_turned_off(app_config, database_url):
    from lms import create_app

    app_config["PAGE_CACHE_SECONDS"] = 0
    assert page_cache.EXTENSION not in create_app(app_config).extensions


def test_session_ended_on_the_server_after_the_idle_limit(app, client, make_user):
    make_user("mira")
    login_as(client, "mira")
    assert client.get_cookie("pathways_session").expires is None  # a browser-session cookie, never refreshed
    assert client.get("/").status_code == 200
    with app.app_context():
        db.session.execute(update(AuthSession).values(last_seen_at=datetime(2000, 1, 1)))
        db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def _browse(client, path: str, times: int = 3):
    """Ask for a page as a browser does, ``times`` times (the first visit sets the form token's cookie)."""
    return [client.get(path) for _ in range(times)]


def _reaching_flask(app) -> list:
    reached = []
    # Added after the first request on purpose (Flask's setup methods refuse that): it records who gets to Flask.
    app.before_request_funcs.setdefault(None, []).append(lambda: reached.append(1))
    return reached


def test_the_browser_asking_again_is_answered_before_flask(app, client, make_user):
    make_user("mira")
    login_as(client, "mira")
    first = _browse(client, "/")[-1]
    reached = _reaching_flask(app)
    statements = []
    # On every engine: Replay checks through a pool of its own.
    listener = event.listens_for(Engine, "before_cursor_execute")(lambda *args: statements.append(args[2]))
    try:
        again = client.get("/")
    finally:
        event.remove(Engine, "before_cursor_execute", listener)
    assert reached == [] and again.get_data() == first.get_data()
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert again.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in again.headers
    assert len([s for s in statements if s.strip().upper() != "BEGIN"]) == 1


def test_no_answer_again_once_signed_out_elsewhere(app, make_user):
    make_user("mira")
    browser = app.test_client()
    login_as(browser, "mira")
    assert _browse(browser, "/")[-1].status_code == 200
    copy = app.test_client()
    copy.set_cookie("pathways_session", browser.get_cookie("pathways_session").value)
    logout(copy)  # the same session, ended from another window
    response = browser.get("/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_no_answer_again_after_the_role_ends_by_the_clock(app, client, make_user):
    from tests.courses.catalogue.factories import build_course

    with app.app_context():
        admin = db.session.get(User, make_user("admin", roles=[("administrator", "site", None)]).id)
        db.session.commit()
        cohort_id = build_course(admin)[2].id
    ends = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=2)
    make_user("trainer", roles=[("trainer", "cohort", cohort_id)])
    with app.app_context():
        db.session.execute(update(Membership).filter_by(role="trainer").values(valid_until=ends))
        db.session.commit()
    login_as(client, "trainer")
    path = f"/catalogue/cohorts/{cohort_id}"
    assert [r.status_code for r in _browse(client, path)] == [200, 200, 200]
    time.sleep(max(0.0, (ends - datetime.now(UTC).replace(tzinfo=None)).total_seconds()) + 0.2)
    assert client.get(path).status_code == 403


def test_a_session_due_a_touch_goes_to_flask(app, client, make_user):
    make_user("mira")
    login_as(client, "mira")
    _browse(client, "/")
    with app.app_context():
        db.session.execute(
            update(AuthSession).values(last_seen_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=6))
        )
        db.session.commit()
    reached = _reaching_flask(app)
    assert client.get("/").status_code == 200 and reached == [1]  # Flask touched the session
    assert client.get("/").status_code == 200 and reached == [1]  # and the next one is answered again


def test_a_failing_check_sends_the_request_to_flask(app, client, make_user, monkeypatch):
    from sqlalchemy.exc import OperationalError

    make_user("mira")
    login_as(client, "mira")
    _browse(client, "/")
    replay = app.wsgi_app

    def unreachable(connection, signed_in):
        raise OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(replay, "still_signed_in", unreachable)
    reached = _reaching_flask(app)
    assert client.get("/").status_code == 200 and reached == [1]


def test_the_scheduler_heartbeat_leaves_kept_pages_valid(app):
    from lms.auth.services import set_required_2fa_roles
    from lms.scheduler import heartbeat

    with app.test_request_context():
        start = _generation()
        heartbeat()
        heartbeat()
        assert _generation() == start
        set_required_2fa_roles(["auditor"])  # the same table, but a change pages depend on
        assert _generation() == start + 1
