"""The audit chain: append-only triggers, verification that names the first break, erasure, seals, concurrency."""

import hashlib
import multiprocessing
from contextlib import contextmanager
from datetime import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import exc, func, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from lms import audit, create_app
from lms.database import begin_write
from lms.extensions import db
from lms.models import AuditEvent, AuditPayload, AuditSeal


class EvidenceBase(DeclarativeBase):
    """Kept apart from the application's metadata, so the migration drift check never sees it."""


class Mark(EvidenceBase):
    """A stand-in evidence row (an attendance mark) in a real table of the test database."""

    __tablename__ = "test_evidence_mark"

    id: Mapped[int] = mapped_column(primary_key=True)
    minutes: Mapped[int]

    def audit_state(self):
        return {"minutes": self.minutes}


def _drop_statements(dialect):
    if dialect == "sqlite":
        return [f"DROP TRIGGER {name}" for name in sorted(audit.TRIGGER_NAMES["sqlite"])]
    return [
        "DROP TRIGGER lms_audit_event_append_only ON lms_audit_event",
        "DROP TRIGGER lms_audit_payload_erase_only ON lms_audit_payload",
    ]


@contextmanager
def triggers_dropped():
    """What someone with direct database access could do; the triggers come back afterwards."""
    db.session.rollback()  # DROP TRIGGER waits for every open transaction on the table, ours included
    with db.engine.begin() as conn:
        for statement in _drop_statements(conn.dialect.name):
            conn.execute(text(statement))
    try:
        yield
    finally:
        with db.engine.begin() as conn:
            audit.install_triggers(conn)


_CANONICAL_FIELDS = (
    "seq", "at", "actor", "subject", "action", "object_type", "object_id",
    "before_sha256", "after_sha256", "reason", "prev_hash",
)  # fmt: skip


def sql(statement, **params):
    """Run one statement directly against the database, outside Pathways."""
    with db.engine.begin() as conn:
        conn.execute(text(statement), params)


def append_events(count, object_type="thing", **kwargs):
    """Append ``count`` events the way services do, each in its own transaction."""
    for i in range(count):
        audit.append("test.event", object_type=object_type, object_id=i, after={"n": i}, **kwargs)
        db.session.commit()


def cli_verify(app):
    return app.test_cli_runner().invoke(args=["lms", "audit", "verify"])


@pytest.fixture
def marks(app):
    """The evidence table, created for one test and dropped after it."""
    with app.app_context():
        EvidenceBase.metadata.create_all(db.engine)
    yield
    with app.app_context():
        EvidenceBase.metadata.drop_all(db.engine)


def record_mark(minutes):
    """Write an evidence row as a service does: change, audit with its state, commit."""
    begin_write()
    mark = Mark(minutes=minutes)
    db.session.add(mark)
    db.session.flush()
    audit.append("mark.recorded", mark, after=mark.audit_state())
    db.session.commit()
    return mark.id


def test_emptying_the_chain_in_one_statement_is_refused(app):
    with app.app_context():
        append_events(2)
        emptying = "DELETE FROM lms_audit_event" if db.engine.dialect.name == "sqlite" else (
            "TRUNCATE lms_audit_event, lms_audit_payload CASCADE"  # TRUNCATE fires no DELETE trigger
        )  # fmt: skip
        with pytest.raises(exc.DBAPIError, match="append-only"):
            sql(emptying)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 2
        assert audit.verify().ok


@pytest.mark.parametrize(
    "statement", ["UPDATE lms_audit_event SET action = 'forged' WHERE seq = 1", "DELETE FROM lms_audit_event"]
)
def test_triggers_reject_changes_to_the_chain(app, statement):
    with app.app_context():
        append_events(2)
        with pytest.raises(exc.DBAPIError, match="append-only"):
            sql(statement)
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.seq == 1)) == "test.event"
        assert audit.verify().ok


def test_payloads_can_only_be_erased_not_edited(app):
    with app.app_context():
        append_events(1)
        with pytest.raises(exc.DBAPIError, match="may only be erased"):
            sql('UPDATE lms_audit_payload SET "after" = :v WHERE seq = 1', v='{"n":99}')
        with pytest.raises(exc.DBAPIError, match="may only be erased"):
            sql("DELETE FROM lms_audit_payload")


def test_intact_chain_verifies_through_the_cli(app):
    with app.app_context():
        append_events(3)
    result = cli_verify(app)
    assert result.exit_code == 0, result.output
    assert "events: 3" in result.output and "OK" in result.output


def test_a_batch_of_appends_links_like_single_appends_and_verifies(app, make_user):
    actor = make_user("batch_actor")
    with app.app_context():
        append_events(1)
        events = audit.append_many(
            [{"action": "test.batch", "object_type": "thing", "object_id": 1, "after": {"n": 1}, "actor": actor},
             {"action": "test.batch", "reason": "no payload"},
             {"action": "test.batch", "object_type": "thing", "object_id": 2, "before": {"n": 1}, "after": None}]
        )  # fmt: skip
        seqs = [e.seq for e in events]
        db.session.commit()
        append_events(1)
        chain = db.session.execute(
            select(AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.actor).order_by(AuditEvent.seq)
        ).all()
        payload_seqs = db.session.scalars(select(AuditPayload.seq).order_by(AuditPayload.seq)).all()
        assert audit.append_many([]) == []
        assert audit.verify().ok
    assert seqs == [2, 3, 4]
    assert [e.prev_hash for e in chain] == [audit.GENESIS] + [e.hash for e in chain[:-1]]
    assert chain[1].actor == actor.pseudonym and payload_seqs == [1, 2, 4, 5]


def test_event_edited_behind_the_triggers_is_named_by_verify(app):
    with app.app_context():
        append_events(5)
        with triggers_dropped():
            sql("UPDATE lms_audit_event SET reason = 'nothing happened' WHERE seq = 3")
    result = cli_verify(app)
    assert result.exit_code == 1
    assert "BROKEN" in result.output and "event 3 was altered" in result.output


def test_deleted_event_is_named_by_verify(app):
    with app.app_context():
        append_events(4)
        with triggers_dropped():
            sql("DELETE FROM lms_audit_payload WHERE seq = 2")
            sql("DELETE FROM lms_audit_event WHERE seq = 2")
    result = cli_verify(app)
    assert result.exit_code == 1
    assert "event 2 is missing" in result.output


def test_rewritten_chain_passes_links_but_not_the_signed_seal(app):
    """Someone recomputes every hash after an edit: only the signed head can tell."""
    with app.app_context():
        append_events(3)
        assert audit.seal_head().seq == 3
        with triggers_dropped():
            sql("UPDATE lms_audit_event SET reason = 'rewritten' WHERE seq = 2")
            prev = audit.GENESIS
            db.session.rollback()  # read the edited rows, not the snapshot the seal was read in
            rows = db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
            for event in rows:
                fields = [getattr(event, name) for name in _CANONICAL_FIELDS]
                new_hash = hashlib.sha256(audit.canonical_bytes(*fields[:-1], prev)).hexdigest()
                sql(
                    "UPDATE lms_audit_event SET prev_hash = :p, hash = :h WHERE seq = :s",
                    p=prev,
                    h=new_hash,
                    s=event.seq,
                )
                prev = new_hash
            sql("UPDATE lms_audit_head SET hash = :h", h=prev)
            db.session.rollback()
        result = audit.verify()
    assert not result.ok
    assert result.first_break == "seal 1: event 3 is not the event that was signed"


def test_evidence_row_edited_in_sql_is_found(app, marks):
    with app.app_context():
        first, second = record_mark(90), record_mark(45)
        # A refusal naming the row carries no state and must not count as its last event.
        audit.record_refusal("access.denied", object_type="test_evidence_mark", object_id=first)
        assert audit.verify(evidence_models=[Mark]).ok
        sql("UPDATE test_evidence_mark SET minutes = 240 WHERE id = :id", id=second)
        result = audit.verify(evidence_models=[Mark])
    assert result.evidence_rows == 2
    assert (
        result.first_break == f"test_evidence_mark {second} differs from its last audit event (edited outside Pathways)"
    )


def test_evidence_rows_inserted_or_deleted_in_sql_are_found(app, marks):
    with app.app_context():
        kept = record_mark(90)
        sql("INSERT INTO test_evidence_mark (id, minutes) VALUES (77, 30)")
        sql("DELETE FROM test_evidence_mark WHERE id = :id", id=kept)
        problems = audit.verify(evidence_models=[Mark]).problems
    assert problems == [
        "test_evidence_mark 77 has no audit event (inserted outside Pathways)",
        f"test_evidence_mark {kept} is gone but its last audit event did not delete it",
    ]


def test_erasure_blanks_payloads_and_the_chain_still_verifies(app, make_user):
    ana, other = make_user("ana"), make_user("boris")
    with app.app_context():
        append_events(2, subject=ana)
        append_events(1, subject=other)
        assert audit.erase_payloads_for(ana) == 2
        db.session.commit()
        payloads = {p.seq: p for p in db.session.scalars(select(AuditPayload))}
        assert [payloads[s].after for s in (1, 2, 3)] == [None, None, '{"n":0}']
        assert payloads[1].erased_at is not None and payloads[3].erased_at is None
        assert audit.verify().ok
        with triggers_dropped():
            sql('UPDATE lms_audit_payload SET "after" = :v WHERE seq = 3', v='{"n":5}')
        assert audit.verify().first_break == "event 3: the stored payload differs from the digest in the chain"


def test_erasure_mark_cannot_hide_edited_payload(app):
    with app.app_context():
        append_events(1)
        with triggers_dropped():
            sql(
                'UPDATE lms_audit_payload SET "after" = :v, erased_at = :at WHERE seq = 1',
                v='{"n":5}',
                at=datetime(2026, 1, 1),
            )
        assert audit.verify().first_break == "event 1: its payload is marked erased but still holds data"


def test_seal_command_signs_the_head_and_verify_checks_it(app):
    with app.app_context():
        append_events(2)
    runner = app.test_cli_runner()
    assert "sealed event 2" in runner.invoke(args=["lms", "audit", "seal"]).output
    result = cli_verify(app)
    assert result.exit_code == 0 and "seals: 1" in result.output


def test_forged_seals_are_found(app):
    with app.app_context():
        append_events(2)
        seal = audit.seal_head()
        forged = bytearray(bytes.fromhex(seal.signature))
        forged[0] ^= 1
        sql("UPDATE lms_audit_seal SET signature = :s WHERE id = :id", s=forged.hex(), id=seal.id)
        assert audit.verify().first_break == f"seal {seal.id}: the signature does not match"

        stranger = Ed25519PrivateKey.generate()
        begin_write()
        db.session.add(
            AuditSeal(
                seq=2,
                hash=seal.hash,
                key_fingerprint=audit.key_fingerprint(stranger.public_key()),
                signature=stranger.sign(audit._seal_message(2, seal.hash)).hex(),
            )
        )
        db.session.commit()
        problems = audit.verify().problems
    assert len(problems) == 2 and problems[1].startswith("seal 2 was signed by an unknown key")


def test_seal_on_empty_chain_does_nothing(app):
    result = app.test_cli_runner().invoke(args=["lms", "audit", "seal"])
    assert "nothing to seal" in result.output


def _append_from_another_process(config, writer, count, start, batch):
    application = create_app(config)
    with application.app_context():
        start.wait(60)
        if batch:  # several events per transaction, as a staff import appends them
            for first in range(0, count, batch):
                audit.append_many({"action": "test.event", "object_type": writer, "object_id": i, "after": {"n": i}}
                                  for i in range(first, min(first + batch, count)))  # fmt: skip
                db.session.commit()
        else:
            append_events(count, object_type=writer)
        db.engine.dispose()


def test_two_writers_at_once_leave_one_unforked_chain(app, app_config):
    """Two processes, each with its own connection, append at once (BEGIN IMMEDIATE on SQLite, FOR UPDATE on
    PostgreSQL), one event per transaction and in batches of ``append_many``."""
    per_writer = 40
    context = multiprocessing.get_context("fork")
    start = context.Event()
    writers = [
        context.Process(target=_append_from_another_process, args=(app_config, name, per_writer, start, batch))
        for name, batch in (("writer-a", 0), ("writer-b", 8))
    ]
    for process in writers:
        process.start()
    start.set()
    for process in writers:
        process.join(120)
    assert [p.exitcode for p in writers] == [0, 0]
    with app.app_context():
        result = audit.verify()
        seqs = db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
        by_writer = db.session.execute(
            select(AuditEvent.object_type, db.func.count()).group_by(AuditEvent.object_type)
        ).all()
    assert result.ok, result.first_break
    assert seqs == list(range(1, 2 * per_writer + 1))
    assert dict(by_writer) == {"writer-a": per_writer, "writer-b": per_writer}
