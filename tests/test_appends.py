"""Buffered append-only rows: batched, yet never missing for a reader or after a savepoint."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, event, func, select, text
from sqlalchemy.orm import aliased

from store import appends, audit, entries, tokens, transaction_state
from store.db import Database
from store.models import AuditRecord, Entry, EntryEvent, EntryStatus, Token

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def _count(session: object, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)))  # type: ignore[attr-defined]


def test_buffered_rows_are_written_in_one_statement_per_table(database: Database) -> None:
    statements: list[tuple[str, bool]] = []

    def spy(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append((statement.split("(")[0].strip(), executemany))

    with database.transaction() as s:
        entry = entries.create_entry(s, fields={"nom": "A"}, status=EntryStatus.WAITING,
                                     problems=[], now=NOW)
        appends.enable(s)
        event.listen(database.engine, "before_cursor_execute", spy)
        try:
            for i in range(20):
                entries.add_event(s, entry, now=NOW, kind="note", detail={"i": i})
                audit.record(s, actor="test", action="note", object_type="entry",
                             object_id=entry.ref, at=NOW)
        finally:
            event.remove(database.engine, "before_cursor_execute", spy)
        assert not any(sql.startswith("INSERT INTO entry_event") for sql, _ in statements)
        statements.clear()
        event.listen(database.engine, "before_cursor_execute", spy)
        try:
            assert _count(s, EntryEvent) == 21  # a read through the session writes them first
        finally:
            event.remove(database.engine, "before_cursor_execute", spy)
        inserts = [(sql, many) for sql, many in statements if sql.startswith("INSERT")]
        assert inserts == [("INSERT INTO entry_event", True)]  # the audit trail waits
        statements.clear()
        event.listen(database.engine, "before_cursor_execute", spy)
        try:
            assert _count(s, AuditRecord) == 21
        finally:
            event.remove(database.engine, "before_cursor_execute", spy)
        inserts = [(sql, many) for sql, many in statements if sql.startswith("INSERT")]
        assert inserts == [("INSERT INTO audit_log", True)]
    with database.transaction() as s:
        assert _count(s, EntryEvent) == 21
        assert _count(s, AuditRecord) == 21
        assert audit.verify_chain(s) == []


def test_commit_writes_the_buffer_and_rollback_drops_it(database: Database) -> None:
    with database.transaction() as s:
        entry = entries.create_entry(s, fields={"nom": "A"}, status=EntryStatus.WAITING,
                                     problems=[], now=NOW)
    with database.transaction() as s:
        appends.enable(s)
        entries.add_event(s, s.merge(entry), now=NOW, kind="kept", detail={})
    with pytest.raises(RuntimeError), database.transaction() as s:
        appends.enable(s)
        entries.add_event(s, s.merge(entry), now=NOW, kind="dropped", detail={})
        raise RuntimeError("échec")
    with database.transaction() as s:
        kinds = list(s.scalars(select(EntryEvent.kind).order_by(EntryEvent.id)))
    assert kinds == ["created", "kept"]


def test_a_rolled_back_savepoint_loses_only_its_own_rows(database: Database) -> None:
    with database.transaction() as s:
        appends.enable(s)
        entry = entries.create_entry(s, fields={"nom": "A"}, status=EntryStatus.WAITING,
                                     problems=[], now=NOW)
        entries.add_event(s, entry, now=NOW, kind="before", detail={})
        with pytest.raises(RuntimeError), s.begin_nested():
            entries.add_event(s, entry, now=NOW, kind="inside", detail={})
            audit.record(s, actor="test", action="inside", object_type="entry", at=NOW)
            raise RuntimeError("une commande échoue")
        with s.begin_nested():
            entries.add_event(s, entry, now=NOW, kind="savepoint_kept", detail={})
        entries.add_event(s, entry, now=NOW, kind="after", detail={})
        audit.record(s, actor="test", action="after", object_type="entry", at=NOW)
    with database.transaction() as s:
        kinds = list(s.scalars(select(EntryEvent.kind).order_by(EntryEvent.id)))
        actions = list(s.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))
        assert audit.verify_chain(s) == []
    assert kinds == ["created", "before", "savepoint_kept", "after"]
    assert actions == ["entry.create", "after"]


def _buffered(session: object) -> int:
    pending = transaction_state.get(session, "buffered_appends")  # type: ignore[arg-type]
    return sum(len(rows) for rows in (pending or {}).values())


def test_statements_write_first_the_buffered_rows_of_the_tables_they_name(
        database: Database) -> None:
    """Reads of other tables leave the buffer alone; any mention of a buffered table —
    FROM, join, subquery, alias, SQL text, a DELETE — writes its rows first."""
    with database.transaction() as s:
        entry = entries.create_entry(s, fields={"nom": "A"}, status=EntryStatus.WAITING,
                                     problems=[], now=NOW)
    with database.transaction() as s:
        appends.enable(s)
        entry = s.merge(entry)
        entries.add_event(s, entry, now=NOW, kind="note", detail={})
        tokens.issue(s, kind="R", recipient="p@example.org", now=NOW, ttl_days=1,
                     entry_id=entry.id, object_id=7)
        audit.record(s, actor="test", action="note", object_type="entry", at=NOW)
        assert _buffered(s) == 3
        assert s.scalar(select(func.count()).select_from(Entry)) == 1
        assert _buffered(s) == 3  # nothing buffered is in table entry
        in_subquery = select(Entry.id).where(Entry.id.in_(select(EntryEvent.entry_id)))
        assert list(s.scalars(in_subquery)) == [entry.id]
        assert _buffered(s) == 2
        other = aliased(Token)
        assert s.scalar(select(func.count()).select_from(other).where(other.object_id == 7)) == 1
        assert _buffered(s) == 1
        assert s.execute(text("SELECT count(*) FROM audit_log")).scalar() == 2
        assert _buffered(s) == 0
        audit.record(s, actor="test", action="again", object_type="entry", at=NOW)
        s.execute(delete(Token).where(Token.object_id == 8))
        assert _buffered(s) == 0
    with database.transaction() as s:
        assert audit.verify_chain(s) == []
        assert _count(s, AuditRecord) == 3
