"""Sign-in limits: strict per account (failed attempts only), loose per address."""

import uuid

import pytest

from lms import create_app
from tests.helpers import DEFAULT_PASSWORD, create_user, csrf_token, login_as, logout


def _fail(client, login, times, path="/auth/login"):
    for _ in range(times):
        token = csrf_token(client, path)
        data = {"csrf_token": token, "login": login, "password": "wrong password", "code": "AAAA-AAAA"}
        assert client.post(path, data=data).status_code == 200


def test_sixth_attempt_is_refused_even_with_the_right_password(app, client, make_user):
    make_user("mira", email="mira@example.org")
    _fail(client, "mira", 3)
    _fail(client, "MIRA@example.org", 2)  # another identifier of the same account counts too
    response = login_as(client, "mira")
    assert response.status_code == 429
    assert "Too many attempts. Please wait a few minutes and try again." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_successful_sign_ins_do_not_count(client, make_user):
    make_user("mira")
    for _ in range(8):
        assert login_as(client, "mira").status_code == 302
        logout(client)


def test_one_accounts_limit_does_not_lock_out_others(app, client, make_user):
    make_user("mira")
    make_user("ana")
    _fail(client, "mira", 5)
    assert login_as(client, "mira").status_code == 429
    assert login_as(client, "ana").status_code == 302
    _fail(app.test_client(), "nobody-at-all", 5)  # unknown names are limited alike, revealing nothing


def test_a_class_of_thirty_behind_one_address_can_all_sign_in(app, make_user):
    for number in range(30):
        make_user(f"learner{number}")
    for number in range(30):
        browser = app.test_client()
        _fail(browser, f"learner{number}", 1)  # a typo each, as happens in class
        assert login_as(browser, f"learner{number}").status_code == 302


def test_address_limit_applies_to_every_attempt(app_config, make_user):
    app = create_app({**app_config, "LOGIN_LIMIT_ADDRESS": "3 per 5 minutes"})
    with app.app_context():
        create_user("mira")
    browser = app.test_client()
    for _ in range(3):
        assert login_as(browser, "mira").status_code == 302
        logout(browser)
    assert login_as(browser, "mira").status_code == 429


def test_code_page_failures_count_against_the_account(client, make_user):
    make_user("mira")
    _fail(client, "mira", 5, path="/auth/code")
    assert login_as(client, "mira").status_code == 429


@pytest.fixture
def redis_config(app_config):
    """Two app instances' settings on the real Redis, under a prefix of this test's own, removed afterwards."""
    import redis

    prefix = f"lms-test-{uuid.uuid4().hex}"
    yield {**app_config, "REDIS_URL": "redis://127.0.0.1:6379/0",
           "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0", "RATELIMIT_KEY_PREFIX": prefix}  # fmt: skip
    server = redis.Redis(host="127.0.0.1", port=6379, db=0)
    keys = list(server.scan_iter(f"*{prefix}*"))
    if keys:
        server.delete(*keys)


def test_limit_is_shared_between_two_app_instances_through_redis(redis_config):
    import redis

    first = create_app(redis_config)
    with first.app_context():
        create_user("mira")
    _fail(first.test_client(), "mira", 3)
    second = create_app(redis_config)  # a second web node (it also replaces the limiter's storage client)
    _fail(second.test_client(), "mira", 2)
    assert login_as(first.test_client(), "mira", DEFAULT_PASSWORD).status_code == 429
    assert login_as(second.test_client(), "mira", DEFAULT_PASSWORD).status_code == 429
    server = redis.Redis(host="127.0.0.1", port=6379, db=0)
    assert list(server.scan_iter(f"*{redis_config['RATELIMIT_KEY_PREFIX']}*login-account*"))


def test_reset_requests_are_limited_per_account_so_a_mailbox_cannot_be_flooded(app, client, make_user):
    from lms.models import OutboxMessage

    make_user("mira", email="mira@example.org")
    for expected in (302, 302, 302, 429):
        token = csrf_token(client, "/auth/reset")
        assert client.post("/auth/reset", data={"csrf_token": token, "login": "mira"}).status_code == expected
    with app.app_context():
        assert OutboxMessage.query.count() == 3
