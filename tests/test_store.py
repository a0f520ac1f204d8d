"""Store: journal, entries, audit chain, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from store import audit, entries, inbound
from store.db import Database
from store.models import AuditRecord, Entry, EntryStatus, InboundState, OutboxMessage

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def test_store_raw_recognises_redelivery_and_duplicates(database: Database) -> None:
    with database.transaction() as s:
        first = inbound.store_raw(s, transport_key="k1", raw=b"a", message_id="m1@x", sender="a@x", now=NOW)
        again = inbound.store_raw(s, transport_key="k1", raw=b"a", message_id="m1@x", sender="a@x", now=NOW)
        dup = inbound.store_raw(s, transport_key="k2", raw=b"b", message_id="m1@x", sender="a@x", now=NOW)
        no_id = inbound.store_raw(s, transport_key="k3", raw=b"c", message_id=None, sender=None, now=NOW)
        no_id_dup = inbound.store_raw(s, transport_key="k4", raw=b"c", message_id=None, sender=None, now=NOW)
    assert first.state is InboundState.RECEIVED and not first.already_stored
    assert again.already_stored and again.inbound_id == first.inbound_id
    assert dup.state is InboundState.DUPLICATE
    assert no_id.state is InboundState.RECEIVED
    assert no_id_dup.state is InboundState.DUPLICATE


def test_store_many_is_store_raw_for_a_batch(database: Database) -> None:
    """One batch with every case store_raw knows, in-batch repeats and duplicates included:
    the same states, duplicate_of and ids as mail-by-mail storing, in the batch's order."""
    from store.models import InboundMessage

    with database.transaction() as s:
        older = inbound.store_raw(s, transport_key="k0", raw=b"z", message_id="old@x",
                                  sender=None, now=NOW)
        batch = [inbound.Incoming("k1", b"a", "m1@x", "a@x"),
                 inbound.Incoming("k1", b"a", "m1@x", "a@x"),  # the same delivery again
                 inbound.Incoming("k2", b"b", "m1@x", "a@x"),  # same Message-ID in the batch
                 inbound.Incoming("k3", b"c", None, None),
                 inbound.Incoming("k4", b"c", None, None),  # same bytes, no Message-ID
                 inbound.Incoming("k5", b"d", "old@x", None),  # seen in an earlier batch
                 inbound.Incoming("k0", b"z", "old@x", None)]  # stored before, not set aside
        stored = inbound.store_many(s, batch, NOW)
    with database.transaction() as s:
        again = inbound.store_many(s, [inbound.Incoming("k2", b"b", "m1@x", "a@x")], NOW)
    assert [one.state for one in stored] == [
        InboundState.RECEIVED, InboundState.RECEIVED, InboundState.DUPLICATE,
        InboundState.RECEIVED, InboundState.DUPLICATE, InboundState.DUPLICATE,
        InboundState.RECEIVED]
    assert [one.already_stored for one in stored] == [False, True, False, False, False, False,
                                                      True]
    assert stored[1].inbound_id == stored[0].inbound_id
    assert stored[6].inbound_id == older.inbound_id
    assert again[0].already_stored and again[0].inbound_id == stored[2].inbound_id
    with database.sessions() as s:
        rows = {row.transport_key: row for row in s.scalars(select(InboundMessage))}
    assert len(rows) == 6  # k0…k5, nothing stored twice
    assert rows["k2"].duplicate_of == stored[0].inbound_id
    assert rows["k2"].reason == "message_id_seen"
    assert rows["k4"].duplicate_of == stored[3].inbound_id and rows["k4"].reason == "sha256_seen"
    assert rows["k5"].duplicate_of == older.inbound_id
    assert rows["k1"].duplicate_of is None and rows["k1"].raw == b"a"
    assert rows["k1"].sender == "a@x" and rows["k1"].size == 1


def test_duplicate_patient_by_normalised_identity(database: Database) -> None:
    fields = {"nom": "Lefèvre", "prenom": "Zoé", "date_naissance": dt.date(1990, 1, 2)}
    with database.transaction() as s:
        created = entries.create_entry(s, fields=fields, status=EntryStatus.WAITING, problems=[], now=NOW)
        same = entries.find_open_duplicate(s, {"nom": "LEFEVRE", "prenom": "zoe",
                                               "date_naissance": dt.date(1990, 1, 2)})
        other = entries.find_open_duplicate(s, {"nom": "LEFEVRE", "prenom": "zoe",
                                                "date_naissance": dt.date(1990, 1, 3)})
        assert same is not None and same.id == created.id
        assert other is None
        entries.set_status(s, created, EntryStatus.CLOSED, now=NOW, reason="doublon")
        assert entries.find_open_duplicate(s, fields) is None


def test_open_duplicates_of_a_batch_are_the_first_open_entry_by_ins_or_identity(
        database: Database) -> None:
    """find_open_duplicates answers as find_open_duplicate does for each, in one pass."""
    zoe = {"nom": "Lefèvre", "prenom": "Zoé", "date_naissance": dt.date(1990, 1, 2)}
    luc = {"nom": "Martin", "prenom": "Luc", "date_naissance": dt.date(1950, 5, 2),
           "ins": "150052512345678"}
    with database.transaction() as s:
        closed = entries.create_entry(s, fields=zoe, status=EntryStatus.WAITING, problems=[],
                                      now=NOW)
        entries.set_status(s, closed, EntryStatus.CLOSED, now=NOW, reason="doublon")
        first = entries.create_entry(s, fields=zoe, status=EntryStatus.WAITING, problems=[],
                                     now=NOW)
        entries.create_entry(s, fields=zoe, status=EntryStatus.INCOMPLETE, problems=[], now=NOW)
        by_ins = entries.create_entry(s, fields={**luc, "prenom": "Lucien"},
                                      status=EntryStatus.WAITING, problems=[], now=NOW)
        asked = [{"nom": "LEFEVRE", "prenom": "zoe", "date_naissance": dt.date(1990, 1, 2)},
                 luc, {**zoe, "date_naissance": dt.date(1990, 1, 3)}, {}]
        found = entries.find_open_duplicates(s, asked)
        assert [e.id if e else None for e in found] == [first.id, by_ins.id, None, None]
        assert found == [entries.find_open_duplicate(s, f) if f else None for f in asked]
        assert entries.find_open_duplicates(s, [{}]) == [None]


def test_timestamps_come_back_aware_utc(database: Database) -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    with database.transaction() as s:
        entry = entries.create_entry(s, fields={"nom": "A"}, status=EntryStatus.INCOMPLETE,
                                     problems=[], now=dt.datetime(2026, 1, 1, 10, 0, tzinfo=paris))
        ref = entry.ref
    with database.sessions() as s:
        loaded = entries.get_by_ref(s, ref)
        assert loaded is not None
        assert loaded.received_at == dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
        assert loaded.received_at.tzinfo is not None


def test_audit_chain_verifies_and_detects_tampering(database: Database) -> None:
    with database.transaction() as s:
        for i in range(5):
            audit.record(s, actor="test", action="x", object_type="entry", object_id=i,
                         after={"status": "waiting"}, at=NOW)
    with database.sessions() as s:
        assert audit.verify_chain(s) == []
    with database.transaction() as s:
        third = s.scalars(select(AuditRecord).order_by(AuditRecord.id).offset(2).limit(1)).one()
        s.execute(update(AuditRecord).where(AuditRecord.id == third.id).values(actor="intrus"))
    with database.sessions() as s:
        breaks = audit.verify_chain(s)
    assert [b.audit_id for b in breaks] == [third.id]
    with database.transaction() as s:
        s.delete(s.get(AuditRecord, third.id + 1))
    with database.sessions() as s:
        assert any(b.audit_id == third.id + 2 for b in audit.verify_chain(s))


def test_audit_rows_appended_together_chain_like_rows_appended_one_by_one(
        database: Database) -> None:
    rows = [audit.AuditRow(actor="test", action="entry.create", object_type="entry",
                           object_id=f"E-{i}", after={"status": "waiting"}, at=NOW)
            for i in range(3)]
    with database.transaction() as s:
        first = audit.record(s, actor="test", action="x", object_type="entry", at=NOW)
        together = audit.record_many(s, rows)
        assert audit.record_many(s, []) == []
    with database.transaction() as s:  # a later transaction starts from the stored head
        last = audit.record(s, actor="test", action="y", object_type="entry", at=NOW)
    with database.sessions() as s:
        stored = s.scalars(select(AuditRecord).order_by(AuditRecord.id)).all()
        assert audit.verify_chain(s) == []
    assert [r.hash for r in stored] == [first, *together, last]
    assert [r.prev_hash for r in stored] == [audit.GENESIS, first, *together]
    assert [r.object_id for r in stored[1:4]] == ["E-0", "E-1", "E-2"]
    with database.transaction() as s:
        s.execute(update(AuditRecord).where(AuditRecord.id == stored[2].id)
                  .values(after={"status": "closed"}))
    with database.sessions() as s:
        assert [b.audit_id for b in audit.verify_chain(s)] == [stored[2].id]


def test_a_reference_already_taken_is_drawn_again(database: Database,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The only fault here is chance itself: make the random draw repeat a taken reference.
    draws = iter(["E-AAAAAA", "E-AAAAAA", "E-BBBBBB"])
    monkeypatch.setattr(entries, "new_entry_ref", lambda: next(draws))
    with database.transaction() as s:
        first = entries.create_entry(s, fields={"nom": "A"}, status=EntryStatus.WAITING,
                                     problems=[], now=NOW)
        second = entries.create_entry(s, fields={"nom": "B"}, status=EntryStatus.WAITING,
                                      problems=[], now=NOW)
        assert (first.ref, second.ref) == ("E-AAAAAA", "E-BBBBBB")
        assert not s.dirty and not s.new  # created as if loaded: nothing pending
        second.status = EntryStatus.CLOSED  # and changes are still tracked
    with database.transaction() as s:
        rows = sorted((e.ref, e.nom, e.status, e.ald) for e in s.scalars(select(Entry)))
    assert rows == [("E-AAAAAA", "A", "waiting", False), ("E-BBBBBB", "B", "closed", False)]


def test_the_head_known_without_alembic_is_alembics_head(database: Database) -> None:
    from store.migrations import HEAD

    assert database.head_revision() == HEAD
    assert database.current_revision() == HEAD
    database.check_current()  # the fast path agrees


def test_an_old_or_missing_schema_is_named_with_the_fix(database: Database) -> None:
    from alembic import command
    from sqlalchemy import text

    from store.db import DatabaseError
    from store.migrations import HEAD

    cfg = database._alembic_config()
    with database.engine.begin() as connection:  # a database of an older version
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0004")
    with pytest.raises(DatabaseError, match=r"révision 0004.*mailbot init"):
        database.check_current()
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    with pytest.raises(DatabaseError, match="pas initialisée"):
        database.check_current()
    with database.engine.begin() as connection:
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0004')"))
    assert database.migrate() == ("0004", HEAD)  # « mailbot init » brings it up to date
    database.check_current()


def test_a_send_is_started_once_and_an_unrecorded_one_is_found_later(database: Database) -> None:
    from store import outbox

    later = NOW + dt.timedelta(minutes=20)
    with database.transaction() as s:
        ids = [outbox.enqueue(s, message_id=f"o{i}@x", kind="ack", sender="bot@x",
                              recipients=["a@x"], raw=b"x", health_data=True, now=NOW)
               for i in range(4)]
    with database.transaction() as s:
        claimed = outbox.claim_due(s, NOW, 10)
    assert [m.id for m in claimed] == ids
    with database.transaction() as s:
        assert outbox.start_attempts(s.connection(), ids[:3], NOW) == set(ids[:3])
        # a second worker with the same claim: none of them is its to send
        assert outbox.start_attempts(s.connection(), ids, NOW) == {ids[3]}
        outbox.release_attempts(s.connection(), [ids[3]])  # never handed over
    sent, retried = claimed[1], claimed[2]  # rows claimed earlier, detached now
    outbox.mark_sent(sent, now=NOW, route="mssante")
    outbox.mark_retry(retried, now=NOW, error="451", base_seconds=60, max_seconds=600,
                      max_attempts=5)
    with database.transaction() as s:
        outbox.record_outcomes(s.connection(), [sent, retried])
        # rescheduled: no longer due, and a stale claim cannot start it again
        assert outbox.start_attempts(s.connection(), [ids[2]], NOW) == set()
        # o0 started and never recorded: not due; o2 later; o3 released, due again
        assert [m.id for m in outbox.claim_due(s, NOW, 10)] == [ids[3]]
        outbox.start_attempts(s.connection(), [ids[3]], NOW)
        # the daemon's wait: o0 and o3 started (not due), so o2's retry is the next one
        assert outbox.next_due_at(s) == NOW + dt.timedelta(seconds=60)
        outbox.release_attempts(s.connection(), [ids[3]])
        assert outbox.next_due_at(s) == NOW
    with database.transaction() as s:
        assert outbox.interrupted_sends(s, NOW) == []  # still within its send
        (interrupted,) = outbox.interrupted_sends(s, later)
        assert interrupted.id == ids[0]
        outbox.mark_uncertain(interrupted, error="interrompu")
    with database.sessions() as s:
        rows = {m.id: m for m in s.scalars(select(OutboxMessage))}
    assert [(rows[i].state, rows[i].attempts, rows[i].attempt_started_at) for i in ids] == [
        ("failed", 1, None), ("sent", 1, None), ("pending", 1, None), ("pending", 0, None)]
    assert rows[ids[2]].next_attempt_at == NOW + dt.timedelta(seconds=60)
    with database.transaction() as s:
        assert [m.id for m in outbox.claim_due(s, later, 10)] == [ids[2], ids[3]]


def test_random_codes_use_the_whole_alphabet_and_nothing_else() -> None:
    from store.refs import ALPHABET, new_entry_ref, random_code

    drawn = "".join(random_code(8) for _ in range(400))
    assert set(drawn) == set(ALPHABET) and len(random_code(14)) == 14
    assert new_entry_ref().startswith("E-") and len(new_entry_ref()) == 8
