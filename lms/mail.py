"""Outgoing mail through an outbox table: queued in the caller's transaction, delivered afterwards.

A message is only ever sent for a committed change (an invitation that was rolled back sends nothing),
and a mail server that is down delays mail instead of failing the page. In development and testing
each message is written to ``instance/outbox/<id>.eml`` (``MAIL_OUTBOX_DIR``); in production it goes
out over SMTP (``LMS_SMTP_*``).
"""

import smtplib
from datetime import UTC
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from .database import begin_write, utcnow
from .extensions import db
from .models import OutboxMessage

MAX_ATTEMPTS = 5
BATCH_SIZE = 100


def queue_mail(to: str, subject: str, body: str) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction; it is sent once that transaction commits."""
    message = OutboxMessage(to_address=to, subject=str(subject), body=body)
    db.session.add(message)
    return message


def render_mail(user, subject, template: str, **context) -> tuple[str, str]:
    """Subject and plain-text body in the recipient's language (their profile's, else the site default).

    ``subject`` is a lazy string, so it is translated here, inside the recipient's locale.
    """
    locale = (
        user.locale if user.locale in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]
    )
    with force_locale(locale):
        return str(subject), render_template(template, user=user, **context)


def outbox_dir() -> Path:
    """Where development and test mail is written."""
    configured = current_app.config.get("MAIL_OUTBOX_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "outbox"


def _as_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at.replace(tzinfo=UTC), usegmt=True)
    email["Message-ID"] = make_msgid(domain="pathways.local")
    email.set_content(message.body)
    return email


def _send_smtp(email: EmailMessage) -> None:
    config = current_app.config
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=30) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        smtp.send_message(email)


def _write_file(message_id: int, email: EmailMessage) -> None:
    directory = outbox_dir()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{message_id}.eml").write_bytes(email.as_bytes())


def _send(message: OutboxMessage) -> None:
    email = _as_email(message)
    if current_app.config["ENV"] == "production":
        if not current_app.config["SMTP_HOST"]:
            raise RuntimeError("LMS_SMTP_HOST is not set: mail cannot be sent.")
        _send_smtp(email)
    else:
        _write_file(message.id, email)


def deliver_outbox(limit: int = BATCH_SIZE) -> int:
    """Send unsent messages (each in its own short transaction); returns how many were sent.

    A failure is recorded on the message (``attempts``, ``error``) and retried on the next run,
    up to ``MAX_ATTEMPTS``. Rows are locked while sent, so two deliverers never send one twice.
    """
    sent, last_id = 0, 0
    for _ in range(limit):
        begin_write()
        message = db.session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS, OutboxMessage.id > last_id)
            .order_by(OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if message is None:
            db.session.rollback()
            break
        message.attempts += 1
        last_id = message.id
        try:
            _send(message)
        except Exception as error:  # any transport failure: keep the message for the next run
            message.error = f"{type(error).__name__}: {error}"[:2000]
            current_app.logger.warning("mail %s not sent: %s", message.id, message.error)
        else:
            message.sent_at = utcnow()
            message.error = None
            sent += 1
        db.session.commit()
    return sent


def deliver_after_commit() -> None:
    """In development, send at once so that ``make run`` users find the mail file without waiting for the scheduler."""
    if current_app.config["ENV"] == "development":
        deliver_outbox()


def deliver_task(task, progress) -> None:
    """Task handler ``mail.deliver``: send what is waiting in the outbox."""
    deliver_outbox()
    progress(100, "")
