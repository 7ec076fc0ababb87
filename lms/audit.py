"""Append-only, hash-chained audit log with daily signed heads; ``verify()`` rebuilds and checks it.

An event's canonical bytes are its fixed fields joined in a fixed order (never ``json.dumps`` of a
dict); the before/after payloads live beside the chain and enter it only as SHA-256 digests, so
erasing a person blanks their payloads while the chain still verifies.
"""

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app, has_request_context
from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from .database import begin_write, utcnow
from .extensions import db
from .models import AuditEvent, AuditHead, AuditPayload, AuditSeal

GENESIS = "0" * 64
FIELD_SEPARATOR = "\x1e"
EMPTY_DIGEST = hashlib.sha256(b"").hexdigest()
SEAL_PREFIX = "pathways-audit-head"


def format_time(at: datetime) -> str:
    """UTC time in microseconds with a ``Z``: the one textual form the chain uses."""
    return at.isoformat(timespec="microseconds") + "Z"


def canonical_bytes(
    seq, at, actor, subject, action, object_type, object_id, before_sha256, after_sha256, reason, prev_hash
):
    """The bytes an event's hash covers, rebuilt the same way on append and on verify."""
    return FIELD_SEPARATOR.join(
        (str(seq), format_time(at), actor, subject, action, object_type, object_id,
         before_sha256, after_sha256, reason, prev_hash)
    ).encode()  # fmt: skip


def canonical_payload(state: dict | None) -> str | None:
    """A state's stored text: sorted keys, no spaces, so its digest is reproducible."""
    if state is None:
        return None
    return json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def payload_digest(payload_text: str | None) -> str:
    """SHA-256 of a payload's stored text (of nothing, for an absent payload)."""
    return hashlib.sha256(payload_text.encode()).hexdigest() if payload_text else EMPTY_DIGEST


def state_digest(state: dict | None) -> str:
    """SHA-256 of a state as the chain records it."""
    return payload_digest(canonical_payload(state))


def confidential(value) -> str:
    """What a confidential field (mentoring notes, health, ethnicity) contributes to a payload: a digest."""
    return "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()


def _clean_reason(reason: str | None) -> str:
    # Control characters would make the field separator ambiguous.
    return "".join(ch if ch >= " " or ch == "\n" else " " for ch in (reason or ""))[:2000]


def _current_actor() -> str:
    if has_request_context():
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            return current_user.pseudonym
    return ""


def object_ref(obj) -> tuple[str, str]:
    """The (type, id) an event names for a model instance; empty for None or anything that is not a row."""
    if obj is None or not hasattr(obj, "__tablename__"):
        return "", ""
    return obj.__tablename__, str(obj.id)


def append(
    action: str,
    obj=None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    actor=None,
    subject=None,
    object_type: str | None = None,
    object_id=None,
    session: Session | None = None,
) -> AuditEvent:
    """Add one event to the chain inside the caller's transaction; the caller commits.

    ``actor`` and ``subject`` are users (their pseudonyms are recorded); the actor defaults to the
    signed-in user. Appends are serialised by locking the head row, and ``prev_hash`` is unique, so
    two writers can never both extend the same link.
    """
    entry = {"action": action, "obj": obj, "before": before, "after": after, "reason": reason, "actor": actor,
             "subject": subject, "object_type": object_type, "object_id": object_id}  # fmt: skip
    return append_many([entry], session=session)[0]


def append_many(entries: Iterable[dict], *, session: Session | None = None) -> list[AuditEvent]:
    """Add several events to the chain, in the order given, inside the caller's transaction; the caller commits.

    Each entry is a dict of ``append``'s keyword arguments (``action`` required, ``obj`` optional). The
    head row is locked once and the events are linked to one another in memory: the lock is held until
    the caller's commit, so no other writer can extend the chain in between and the result is exactly
    the chain that as many ``append`` calls would build, for one locking read and two batched flushes
    instead of three statements per event (a staff import appends thousands).
    """
    entries = list(entries)
    if not entries:
        return []
    session = session or db.session()
    begin_write(session)
    head = _lock_head(session)
    signed_in = None
    events, payloads = [], []
    for entry in entries:
        actor = entry.get("actor")
        if actor is None and signed_in is None:
            signed_in = _current_actor()
        event, payload = _new_event(head.seq, head.hash, signed_in, **entry)
        head.seq, head.hash = event.seq, event.hash
        events.append(event)
        if payload is not None:
            payloads.append(payload)
    session.add_all(events)
    session.flush()  # the events before the payloads that refer to them
    session.add_all(payloads)
    session.flush()
    return events


def _new_event(
    prev_seq: int,
    prev_hash: str,
    signed_in: str | None,
    action: str,
    obj=None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    actor=None,
    subject=None,
    object_type: str | None = None,
    object_id=None,
) -> tuple[AuditEvent, AuditPayload | None]:
    """The event following ``prev_seq``/``prev_hash``, hashed, and its payload row (None when it has none)."""
    if obj is not None:
        object_type, object_id = object_ref(obj)
    before_text, after_text = canonical_payload(before), canonical_payload(after)
    event = AuditEvent(
        seq=prev_seq + 1,
        at=utcnow(),
        actor=actor.pseudonym if actor is not None else signed_in,
        subject=subject.pseudonym if subject is not None else "",
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        before_sha256=payload_digest(before_text),
        after_sha256=payload_digest(after_text),
        reason=_clean_reason(reason),
        prev_hash=prev_hash,
    )
    event.hash = hashlib.sha256(
        canonical_bytes(
            event.seq, event.at, event.actor, event.subject, event.action, event.object_type,
            event.object_id, event.before_sha256, event.after_sha256, event.reason, event.prev_hash,
        )
    ).hexdigest()  # fmt: skip
    if before_text is None and after_text is None:
        return event, None
    return event, AuditPayload(seq=event.seq, before=before_text, after=after_text)


def _lock_head(session: Session) -> AuditHead:
    # populate_existing: a head row read earlier in this session must be refreshed with what the lock
    # returns, or the event would link to a stale head and the unique prev_hash would refuse it.
    query = select(AuditHead).where(AuditHead.id == 1).with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one()


def erase_payloads_for(user, session: Session | None = None) -> int:
    """Blank the before/after payloads of every event whose subject is ``user`` (GDPR erasure).

    Runs in the caller's write transaction (the erasure service appends its own event and commits).
    The chain keeps the payloads' digests, so it still verifies; returns how many payloads were blanked.
    """
    session = session or db.session()
    begin_write(session)
    subject_events = select(AuditEvent.seq).where(AuditEvent.subject == user.pseudonym)
    result = session.execute(
        update(AuditPayload)
        .where(AuditPayload.seq.in_(subject_events), AuditPayload.erased_at.is_(None))
        .values(before=None, after=None, erased_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def record_refusal(action: str, *, actor=None, object_type="", object_id="", reason="") -> None:
    """Audit a refused action (denied permission, failed login) in its own short transaction.

    The request's own transaction is rolled back on refusal; this one commits regardless.
    """
    with Session(db.engine) as session:
        append(action, actor=actor, object_type=object_type, object_id=object_id, reason=reason, session=session)
        session.commit()


# --- signing -------------------------------------------------------------------------------------


def signing_key() -> Ed25519PrivateKey:
    """The Ed25519 key that seals chain heads: configured in production, generated into instance/ in development."""
    configured = current_app.config.get("AUDIT_SIGNING_KEY")
    if configured:
        return serialization.load_pem_private_key(configured.encode(), password=None)
    if current_app.config["ENV"] == "production":
        raise RuntimeError("Set LMS_AUDIT_SIGNING_KEY (an Ed25519 private key in PEM) in production.")
    key_file = Path(current_app.instance_path) / "audit_signing_key.pem"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
        except FileExistsError:
            pass  # another process created it first
    return serialization.load_pem_private_key(key_file.read_bytes(), password=None)


def key_fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, as published on the verification pages."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _seal_message(seq: int, head_hash: str) -> bytes:
    return FIELD_SEPARATOR.join((SEAL_PREFIX, str(seq), head_hash)).encode()


def seal_head() -> AuditSeal | None:
    """Sign the current chain head (the scheduler does this daily); nothing to do on an empty chain."""
    begin_write()
    head = _lock_head(db.session())
    if head.seq == 0:
        db.session.rollback()
        return None
    key = signing_key()
    seal = AuditSeal(
        seq=head.seq,
        hash=head.hash,
        key_fingerprint=key_fingerprint(key.public_key()),
        signature=key.sign(_seal_message(head.seq, head.hash)).hex(),
    )
    db.session.add(seal)
    db.session.commit()
    return seal


# --- verification --------------------------------------------------------------------------------


@dataclass
class VerifyResult:
    """What ``verify()`` found: counts, and the first break (None when the chain is whole)."""

    events: int = 0
    seals: int = 0
    evidence_rows: int = 0
    first_break: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no break was found."""
        return self.first_break is None

    def fail(self, message: str) -> None:
        """Record a break; the first one is the one reported."""
        if self.first_break is None:
            self.first_break = message
        self.problems.append(message)


def _verify_chain(conn, result: VerifyResult) -> None:
    cols = (
        AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.subject, AuditEvent.action,
        AuditEvent.object_type, AuditEvent.object_id, AuditEvent.before_sha256, AuditEvent.after_sha256,
        AuditEvent.reason, AuditEvent.prev_hash, AuditEvent.hash,
        AuditPayload.before, AuditPayload.after, AuditPayload.erased_at,
    )  # fmt: skip
    query = select(*cols).outerjoin(AuditPayload, AuditPayload.seq == AuditEvent.seq).order_by(AuditEvent.seq)
    expected_seq, prev = 1, GENESIS
    sha256 = hashlib.sha256
    rows = conn.execution_options(stream_results=True, yield_per=5000).execute(query)
    for (
        seq,
        at,
        actor,
        subj,
        action,
        otype,
        oid,
        bsha,
        asha,
        reason,
        prev_hash,
        stored,
        pb,
        pa,
        erased,
    ) in rows:
        if seq != expected_seq:
            result.fail(f"event {expected_seq} is missing (next found: {seq})")
            return
        if prev_hash != prev:
            result.fail(f"event {seq} does not link to event {seq - 1}")
            return
        rebuilt = sha256(
            canonical_bytes(seq, at, actor, subj, action, otype, oid, bsha, asha, reason, prev_hash)
        ).hexdigest()
        if rebuilt != stored:
            result.fail(f"event {seq} was altered: its fields no longer match its hash")
            return
        if erased is not None:
            # An erased payload is blank; text left behind an erasure mark was not erased but hidden.
            if pb is not None or pa is not None:
                result.fail(f"event {seq}: its payload is marked erased but still holds data")
                return
        elif payload_digest(pb) != bsha or payload_digest(pa) != asha:
            # Also catches a payload row deleted outright: nothing stored no longer matches the digests.
            result.fail(f"event {seq}: the stored payload differs from the digest in the chain")
            return
        prev = stored
        expected_seq += 1
        result.events += 1
    head = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
    if (head.seq, head.hash) != (result.events, prev):
        result.fail(f"the chain head says event {head.seq}, but the chain ends at event {result.events}")


def _verify_seals(conn, result: VerifyResult) -> None:
    public_key = signing_key().public_key()
    fingerprint = key_fingerprint(public_key)
    seals = conn.execute(select(AuditSeal).order_by(AuditSeal.id)).all()
    wanted = {s.seq for s in seals}
    hashes = dict(conn.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.in_(wanted))).all())
    for seal in seals:
        if seal.key_fingerprint != fingerprint:
            result.fail(f"seal {seal.id} was signed by an unknown key {seal.key_fingerprint[:16]}")
            continue
        try:
            public_key.verify(bytes.fromhex(seal.signature), _seal_message(seal.seq, seal.hash))
        except Exception:
            result.fail(f"seal {seal.id}: the signature does not match")
            continue
        if hashes.get(seal.seq) != seal.hash:
            result.fail(f"seal {seal.id}: event {seal.seq} is not the event that was signed")
            continue
        result.seals += 1


def _verify_evidence(conn, result: VerifyResult, evidence_models) -> None:
    for model in evidence_models:
        otype = model.__tablename__
        # Only events that record a state count: a refusal or a read naming the row carries no payload.
        changes_state = or_(AuditEvent.before_sha256 != EMPTY_DIGEST, AuditEvent.after_sha256 != EMPTY_DIGEST)
        last = (
            select(AuditEvent.object_id, func.max(AuditEvent.seq).label("seq"))
            .where(AuditEvent.object_type == otype, changes_state)
            .group_by(AuditEvent.object_id)
            .subquery()
        )
        digests = dict(
            conn.execute(
                select(AuditEvent.object_id, AuditEvent.after_sha256).join(last, last.c.seq == AuditEvent.seq)
            ).all()
        )
        with Session(bind=conn) as session:
            for row in session.execute(select(model).execution_options(yield_per=2000)).scalars():
                result.evidence_rows += 1
                recorded = digests.pop(str(row.id), None)
                if recorded is None:
                    result.fail(f"{otype} {row.id} has no audit event (inserted outside Pathways)")
                elif recorded != state_digest(row.audit_state()):
                    result.fail(f"{otype} {row.id} differs from its last audit event (edited outside Pathways)")
        for object_id, recorded in digests.items():
            if recorded != EMPTY_DIGEST:  # its last event did not delete it
                result.fail(f"{otype} {object_id} is gone but its last audit event did not delete it")


def verify(evidence_models=None) -> VerifyResult:
    """Rebuild every event's bytes from its columns, check links, signed heads and evidence rows."""
    from .plugins import evidence_models as registered_evidence_models

    result = VerifyResult()
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # One snapshot for the whole check, so appends committed meanwhile cannot look like a break.
            # (SQLite: the connection's single read transaction already is one.)
            conn.execution_options(isolation_level="REPEATABLE READ")
        _verify_chain(conn, result)
        _verify_seals(conn, result)
        models = registered_evidence_models() if evidence_models is None else evidence_models
        _verify_evidence(conn, result, models)
    return result


# --- triggers ------------------------------------------------------------------------------------

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS lms_audit_event_no_update BEFORE UPDATE ON lms_audit_event "
    "BEGIN SELECT RAISE(ABORT, 'lms_audit_event is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS lms_audit_event_no_delete BEFORE DELETE ON lms_audit_event "
    "BEGIN SELECT RAISE(ABORT, 'lms_audit_event is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS lms_audit_payload_no_delete BEFORE DELETE ON lms_audit_payload "
    "BEGIN SELECT RAISE(ABORT, 'lms_audit_payload may only be erased'); END",
    "CREATE TRIGGER IF NOT EXISTS lms_audit_payload_erase_only BEFORE UPDATE ON lms_audit_payload "
    'WHEN NEW.erased_at IS NULL OR NEW."before" IS NOT NULL OR NEW."after" IS NOT NULL '
    "BEGIN SELECT RAISE(ABORT, 'lms_audit_payload may only be erased'); END",
)

_POSTGRES_TRIGGERS = (
    """CREATE OR REPLACE FUNCTION lms_audit_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION lms_audit_payload_erase_only() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' OR NEW.erased_at IS NULL OR NEW."before" IS NOT NULL OR NEW."after" IS NOT NULL THEN
        RAISE EXCEPTION 'lms_audit_payload may only be erased';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS lms_audit_event_append_only ON lms_audit_event",
    "CREATE TRIGGER lms_audit_event_append_only BEFORE UPDATE OR DELETE ON lms_audit_event "
    "FOR EACH ROW EXECUTE FUNCTION lms_audit_append_only()",
    "DROP TRIGGER IF EXISTS lms_audit_payload_erase_only ON lms_audit_payload",
    "CREATE TRIGGER lms_audit_payload_erase_only BEFORE UPDATE OR DELETE ON lms_audit_payload "
    "FOR EACH ROW EXECUTE FUNCTION lms_audit_payload_erase_only()",
    # TRUNCATE fires no DELETE trigger: emptying the chain in one statement is refused on its own.
    "DROP TRIGGER IF EXISTS lms_audit_event_no_truncate ON lms_audit_event",
    "CREATE TRIGGER lms_audit_event_no_truncate BEFORE TRUNCATE ON lms_audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION lms_audit_append_only()",
    "DROP TRIGGER IF EXISTS lms_audit_payload_no_truncate ON lms_audit_payload",
    "CREATE TRIGGER lms_audit_payload_no_truncate BEFORE TRUNCATE ON lms_audit_payload "
    "FOR EACH STATEMENT EXECUTE FUNCTION lms_audit_append_only()",
)

TRIGGER_NAMES = {
    "sqlite": {
        "lms_audit_event_no_update",
        "lms_audit_event_no_delete",
        "lms_audit_payload_no_delete",
        "lms_audit_payload_erase_only",
    },
    "postgresql": {
        "lms_audit_event_append_only",
        "lms_audit_payload_erase_only",
        "lms_audit_event_no_truncate",
        "lms_audit_payload_no_truncate",
    },
}


def install_triggers(connection) -> None:
    """Create the triggers that make the chain append-only (idempotent; migrations call it after each run)."""
    statements = _SQLITE_TRIGGERS if connection.dialect.name == "sqlite" else _POSTGRES_TRIGGERS
    for statement in statements:
        connection.execute(text(statement))


def installed_triggers(connection) -> set[str]:
    """Names of the audit triggers present in the database."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    else:
        rows = connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
    return {name for (name,) in rows} & TRIGGER_NAMES[connection.dialect.name]
