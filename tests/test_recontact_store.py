"""The recontact store: migration 0003, failing addresses, rounds and confirmations (both backends)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from store import addresses, entries, recontact
from store.addresses import Failure
from store.db import Database
from store.models import Base, EntryStatus
from store.models_recontact import RoundOutcome

MINE = ("recontact_round", "address_status", "address_event", "call_item")
NOW = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


def test_migration_creates_exactly_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if any(table in repr(d) for table in MINE)] == []
    assert set(MINE) <= set(inspect(database.engine).get_table_names())


def test_migration_0003_downgrades_and_upgrades(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    cfg = db._alembic_config()
    with db.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0003")
        assert set(MINE) <= set(inspect(connection).get_table_names())
        command.downgrade(cfg, "0002")
        assert not set(MINE) & set(inspect(connection).get_table_names())
        command.upgrade(cfg, "0003")
    db.dispose()


def test_permanent_failure_fails_at_once_temporary_ones_add_up(database: Database) -> None:
    with database.transaction() as session:
        status = addresses.record_failure(session, Failure("A@Gmail.com", True, "5.1.1"), now=NOW,
                                          temporary_threshold=3)
        assert status.state == "failing" and status.address == "a@gmail.com"
        for day in range(2):
            status = addresses.record_failure(session, Failure("b@orange.fr", False, "4.2.2"),
                                              now=NOW + dt.timedelta(days=day),
                                              temporary_threshold=3)
        assert status.state == "ok"
        status = addresses.record_failure(session, Failure("b@orange.fr", False, None),
                                          now=NOW + dt.timedelta(days=3), temporary_threshold=3)
        assert status.state == "failing" and status.failing_since == NOW + dt.timedelta(days=3)
    with database.sessions() as session:
        assert addresses.is_failing(session, "a@gmail.com")
        assert addresses.failing_set(session) == {"a@gmail.com", "b@orange.fr"}
        assert [a.address for a in addresses.failing_addresses(session)] == [
            "b@orange.fr", "a@gmail.com"]
        assert addresses.failure_counts(session) == {"permanent": 1, "temporary": 3}
        assert addresses.failure_counts(session, since=NOW + dt.timedelta(days=2)) == {
            "permanent": 0, "temporary": 1}
    with database.transaction() as session:
        addresses.record_success(session, "a@gmail.com", now=NOW)
        assert addresses.reset(session, "b@orange.fr", now=NOW, actor="cli:test")
        assert not addresses.reset(session, "never@seen.fr", now=NOW, actor="cli:test")
        addresses.record_success(session, "never@seen.fr", now=NOW)  # nothing to clear
    with database.sessions() as session:
        assert addresses.failing_set(session) == set()


def test_rounds_streaks_and_confirmations(database: Database) -> None:
    with database.transaction() as session:
        entry = entries.create_entry(session, fields={"nom": "A"}, status=EntryStatus.WAITING,
                                     problems=[], now=NOW)
        first = recontact.start_round(session, entry_id=entry.id, address="a@b.fr",
                                      message_id="<1@x>", now=NOW, number=1)
        session.flush()
        recontact.close_round(first, RoundOutcome.NO_ANSWER, now=NOW, streak=1)
        second = recontact.start_round(session, entry_id=entry.id, address="a@b.fr",
                                       message_id="<2@x>", now=NOW + dt.timedelta(days=30), number=2)
        session.flush()
        assert recontact.previous_streak(session, entry.id, second.id, None) == 1
        assert recontact.open_round(session, entry.id) is second
        assert recontact.round_of_message(session, ["<1@x>"]) is first
        note = recontact.confirm(session, entry, now=NOW + dt.timedelta(days=31), by="le patient")
        assert note == "confirmé par le patient le 01/01/2027"
        assert recontact.previous_streak(session, entry.id, second.id, entry.confirmed_at) == 0
    with database.sessions() as session:
        [confirmation] = recontact.confirmations(session)
        assert confirmation.ref == entry.ref and confirmation.by == "le patient"
        assert recontact.round_counts(session) == {"no_answer": 1, "open": 1}
        assert recontact.last_asked(session) == {entry.id: (2, NOW + dt.timedelta(days=30))}
