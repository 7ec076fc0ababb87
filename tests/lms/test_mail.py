"""The outbox: mail is queued with the change that causes it and delivered afterwards."""

import email

import pytest


@pytest.fixture
def app_config(app_config, tmp_path):
    """Mail files go to the test's own folder."""
    return {**app_config, "MAIL_OUTBOX_DIR": str(tmp_path / "outbox")}


def _queue(app, *messages, commit=True):
    from lms.extensions import db
    from lms.mail import queue_mail

    with app.app_context():
        for to, subject, body in messages:
            queue_mail(to, subject, body)
        db.session.commit() if commit else db.session.rollback()


def test_queued_mail_is_written_to_the_outbox_folder_in_development_and_testing(app, tmp_path):
    from lms.mail import deliver_outbox
    from lms.models import OutboxMessage

    _queue(app, ("ana@example.org", "Здраво", "Тело на пораката\nвтор ред"))
    with app.app_context():
        assert deliver_outbox() == 1
        assert deliver_outbox() == 0  # nothing is sent twice
        message = OutboxMessage.query.one()
        assert message.sent_at is not None and message.attempts == 1 and message.error is None
    parsed = email.message_from_bytes((tmp_path / "outbox" / "1.eml").read_bytes(), policy=email.policy.default)
    assert parsed["To"] == "ana@example.org" and str(parsed["Subject"]) == "Здраво"
    assert "Pathways" in parsed["From"]
    assert parsed.get_content().strip() == "Тело на пораката\nвтор ред"


def test_mail_of_a_rolled_back_change_is_never_sent(app, tmp_path):
    from lms.mail import deliver_outbox

    _queue(app, ("ana@example.org", "Subject", "Body"), commit=False)
    with app.app_context():
        assert deliver_outbox() == 0
    assert not (tmp_path / "outbox").exists()


class _FakeSMTP:
    sent: list = []
    fail = False

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        self.tls = True

    def login(self, user, password):
        self.user = user

    def send_message(self, message):
        if _FakeSMTP.fail:
            raise ConnectionRefusedError("mail server down")
        _FakeSMTP.sent.append((self.host, self.port, self.tls, self.user, message["To"], message["Subject"]))


def test_production_sends_by_smtp_and_keeps_failed_mail_for_the_next_run(app, monkeypatch):
    from lms import mail
    from lms.models import OutboxMessage

    monkeypatch.setattr(mail.smtplib, "SMTP", _FakeSMTP)
    monkeypatch.setattr(_FakeSMTP, "sent", [])
    app.config.update(ENV="production", SMTP_HOST="smtp.example.org", SMTP_PORT=2525, SMTP_USER="lms",
                      SMTP_PASSWORD="pw", SMTP_STARTTLS=True)  # fmt: skip
    _queue(app, ("a@example.org", "First", "1"), ("b@example.org", "Second", "2"))
    with app.app_context():
        monkeypatch.setattr(_FakeSMTP, "fail", True)
        assert mail.deliver_outbox() == 0
        rows = OutboxMessage.query.order_by(OutboxMessage.id).all()
        assert [(m.attempts, m.sent_at) for m in rows] == [(1, None), (1, None)]
        assert "mail server down" in rows[0].error
        monkeypatch.setattr(_FakeSMTP, "fail", False)
        assert mail.deliver_outbox() == 2
    assert _FakeSMTP.sent == [
        ("smtp.example.org", 2525, True, "lms", "a@example.org", "First"),
        ("smtp.example.org", 2525, True, "lms", "b@example.org", "Second"),
    ]


def test_mail_that_keeps_failing_stops_being_retried(app, monkeypatch):
    from lms import mail
    from lms.models import OutboxMessage

    monkeypatch.setattr(mail.smtplib, "SMTP", _FakeSMTP)
    monkeypatch.setattr(_FakeSMTP, "fail", True)
    app.config.update(ENV="production", SMTP_HOST="smtp.example.org")
    _queue(app, ("a@example.org", "First", "1"))
    with app.app_context():
        for _ in range(mail.MAX_ATTEMPTS + 2):
            mail.deliver_outbox()
        assert OutboxMessage.query.one().attempts == mail.MAX_ATTEMPTS


def test_delivery_is_a_task_handler_and_a_scheduled_job(app, tmp_path):
    from lms.plugins import flat, hook

    _queue(app, ("ana@example.org", "Subject", "Body"))
    with app.app_context():
        handlers = {name: fn for table in hook().lms_task_handlers() for name, fn in table.items()}
        jobs = {job_id: (fn, trigger) for job_id, fn, trigger in flat(hook().lms_scheduled_jobs())}
        reported = []
        handlers["mail.deliver"](None, lambda percent, note: reported.append(percent))
        assert reported == [100]
        assert (tmp_path / "outbox" / "1.eml").exists()
        assert jobs["mail.deliver"][1] == {"trigger": "interval", "minutes": 1}
        assert jobs["mail.deliver"][0]() == 0
