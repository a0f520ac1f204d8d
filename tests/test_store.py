"""Store: journal, entries, audit chain, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from store import audit, entries, inbound
from store.db import Database
from store.models import AuditRecord, Entry, EntryStatus, InboundState

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
    from sqlalchemy import text

    from store.db import DatabaseError

    with database.engine.begin() as connection:  # a database of the previous version
        connection.execute(text("DROP INDEX ix_entry_event_confirmed_at"))
        connection.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    with pytest.raises(DatabaseError, match=r"révision 0004.*mailbot init"):
        database.check_current()
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    with pytest.raises(DatabaseError, match="pas initialisée"):
        database.check_current()
    with database.engine.begin() as connection:
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0004')"))
    assert database.migrate() == ("0004", "0005")  # « mailbot init » brings it up to date
    database.check_current()
