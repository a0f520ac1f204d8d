"""Leases (issue 14): a process killed mid-work leaves its claims; another takes them over
after the lease, never before; a live lease is never taken."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, select

from mailbot.app import App
from mailbot.clock import Clock
from mailbot.daemon.heartbeat import Heartbeat
from mailbot.inbound.pipeline import Pipeline
from mailbot.transports.factory import inbound_transport
from store import inbound, workers
from store.db import Database
from store.models import InboundMessage, InboundState, OutboxMessage
from tests.helpers import ROOT, Bot
from tests.test_intake_e2e import COMPLETE, DAC, mail

LEASE = 10  # seconds, the shortest [daemon] lease_seconds allows
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def leased(tmp_path: Path, database_section: dict[str, str]) -> Bot:
    """A bot whose lease is :data:`LEASE` seconds, with three mails waiting."""
    bot = Bot.create(tmp_path, database_section, extra={"daemon": {"lease_seconds": LEASE}})
    bot.drop(mail(DAC, COMPLETE, message_id="l1@dac16.mssante.fr"))
    bot.drop(mail(DAC, COMPLETE.replace("MARTIN", "BERNARD"), message_id="l2@dac16.mssante.fr"))
    bot.drop(mail("x@example.org", COMPLETE, message_id="l3@example.org"))
    return bot


def _claim_and_kill(bot: Bot) -> str:
    """Run a real process that stores and claims the inbox, SIGKILL it; return its identity."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.leases_support", str(bot.config_path)],
                            stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None
        said = proc.stdout.readline().split()
        assert said[:2] == ["claimed", "3"], said
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return said[2]


def _rows(app: App) -> list[InboundMessage]:
    with app.db.sessions() as session:
        return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def _other(app: App, worker: str, at: dt.datetime) -> App:
    """A second App on the same database: another worker, its clock frozen at ``at``."""
    return dataclasses.replace(app, worker=worker, clock=Clock(frozen=at))


def test_a_killed_process_claims_are_taken_over_after_the_lease_not_before(leased: Bot) -> None:
    dead = _claim_and_kill(leased)
    rows = _rows(leased.app)
    assert [(r.state, r.claimed_by) for r in rows] == [("received", dead)] * 3
    until = rows[0].lease_until
    assert until is not None and until > dt.datetime.now(dt.UTC)

    report = json.loads(leased.cli("doctor", "--json", check=False).stdout)["holders"]
    assert [(w["id"], w["role"]) for w in report["workers"]] == [(dead, "daemon")]
    assert [(c["worker"], c["mails"]) for c in report["inbound_claims"]] == [(dead, 3)]

    early = _other(leased.app, "other:1:1", until - dt.timedelta(seconds=1))
    assert Pipeline(early, inbound_transport(early.config.inbound)).process_leftovers() == {}
    assert [r.claimed_by for r in _rows(leased.app)] == [dead] * 3  # a live lease: kept

    late = _other(leased.app, "other:1:1", until + dt.timedelta(seconds=1))
    counts = Pipeline(late, inbound_transport(late.config.inbound)).process_leftovers()
    assert counts == {"processed": 2, "quarantined": 1}
    assert [(r.claimed_by, r.lease_until) for r in _rows(leased.app)] == [(None, None)] * 3
    leased.close()


def test_a_restart_on_the_same_host_takes_a_killed_process_claims_at_once(leased: Bot) -> None:
    dead = _claim_and_kill(leased)
    assert workers.gone_here(dead) and not workers.gone_here(workers.identity())
    with Heartbeat(leased.app, resume_jobs=False):  # registering reaps this host's dead
        with leased.app.db.sessions() as session:
            assert [w.id for w in workers.live(session, leased.app.clock.now())] == [
                leased.app.worker]
        counts = Pipeline(leased.app, inbound_transport(leased.app.config.inbound)).process_leftovers()
    assert counts == {"processed": 2, "quarantined": 1}
    with leased.app.db.sessions() as session:  # a clean stop leaves no row of its own
        assert leased.app.worker not in {w.id for w in workers.live(session, leased.app.clock.now())}
    leased.close()


def _stored(database: Database, holder: str, count: int = 3) -> list[int]:
    with database.transaction() as session:
        stored = inbound.store_many(session, [
            inbound.Incoming(f"k{i}", f"Message-ID: <m{i}@x>\r\n\r\nx".encode(), f"m{i}@x", "a@x")
            for i in range(count)], NOW, claim=(holder, NOW + dt.timedelta(seconds=LEASE)))
    return [one.inbound_id for one in stored]


def test_a_live_lease_is_never_taken_and_one_claim_is_one_statement(database: Database) -> None:
    lease = dt.timedelta(seconds=LEASE)
    ids = _stored(database, "a:1:1")
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    with database.transaction() as session:
        assert inbound.claim(session, ids, "b:2:2", NOW + lease / 2, lease) == set()
    event.remove(database.engine, "before_cursor_execute", count)
    assert len([s for s in statements if "inbound_message" in s]) == 1  # one for the batch
    with database.transaction() as session:  # the holder renews its own lease
        assert inbound.claim(session, ids, "a:1:1", NOW + lease / 2, lease) == set(ids)
    with database.transaction() as session:  # the renewed lease still holds
        assert inbound.claim(session, ids, "b:2:2", NOW + lease * 1.2, lease) == set()
        assert inbound.load_for_processing(session, ids, "b:2:2") == []
    with database.transaction() as session:
        assert inbound.claim(session, ids, "b:2:2", NOW + lease * 2, lease) == set(ids)
        assert inbound.load_for_processing(session, ids, "a:1:1") == []  # lost to b


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite: one process
def test_postgres_a_lease_outlived_by_a_slow_batch_lets_nobody_in(database: Database) -> None:
    lease = dt.timedelta(seconds=LEASE)
    ids = _stored(database, "a:1:1")
    with database.transaction() as slow:
        rows = inbound.load_for_processing(slow, ids, "a:1:1")  # A is processing them…
        assert [r.id for r in rows] == ids
        with database.transaction() as other:  # …past its lease: B skips the locked rows
            assert inbound.claim(other, ids, "b:2:2", NOW + lease * 2, lease) == set()
        inbound.finish_many(slow, [inbound.Finished(r, InboundState.PROCESSED, "x", None,
                                                    NOW) for r in rows])
    with database.transaction() as other:  # finished: nothing left to claim
        assert inbound.claim(other, ids, "b:2:2", NOW + lease * 2, lease) == set()


def test_a_dead_worker_sends_are_uncertain_after_the_lease_a_live_one_waits(
        database: Database) -> None:
    from store import outbox

    lease = dt.timedelta(seconds=LEASE)
    with database.transaction() as s:
        ids = [outbox.enqueue(s, message_id=f"s{i}@x", kind="ack", sender="bot@x",
                              recipients=["a@x"], raw=b"x", health_data=True, now=NOW)
               for i in range(3)]
    with database.autocommit() as c:
        for worker in ("live:1:1", "dead:2:2"):
            workers.register(c, worker, role="daemon", now=NOW, lease=lease)
        assert outbox.start_attempts(c, ids[:1], NOW, "live:1:1") == {ids[0]}
        assert outbox.start_attempts(c, ids[1:2], NOW, "dead:2:2") == {ids[1]}
        assert outbox.start_attempts(c, ids[2:], NOW) == {ids[2]}  # no worker: the ceiling
    ceiling = dt.timedelta(minutes=15)

    def interrupted(at: dt.datetime) -> list[int]:
        with database.autocommit() as c:  # the live one keeps beating; the dead one died at NOW
            workers.beat(c, "live:1:1", now=at, lease=lease)
        with database.transaction() as s:
            return [m.id for m in outbox.interrupted_sends(s, at - ceiling,
                                                           dead_before=at - lease, now=at)]

    assert interrupted(NOW + lease / 2) == []  # the dead one's lease still runs
    assert interrupted(NOW + lease * 2) == [ids[1]]
    assert interrupted(NOW + ceiling + lease) == ids  # stuck for ever: the ceiling, as before
    with database.sessions() as s:
        assert {m.attempt_started_by for m in s.scalars(select(OutboxMessage))} == {
            "live:1:1", "dead:2:2", None}
        report = {h.worker: h.sends for h in workers.holdings(s)}
        assert report == {"live:1:1": 1, "dead:2:2": 1, "?": 1}


def test_doctor_shows_who_holds_what(leased: Bot, backend: str) -> None:
    from sqlalchemy import text

    from mailbot.jobs.schedule import lock_key
    from store import outbox

    app = leased.app
    now = dt.datetime.now(dt.UTC)
    lease = dt.timedelta(seconds=60)
    ids = _stored(app.db, "w:1:1")
    with app.db.transaction() as s:
        assert inbound.claim(s, ids, "w:1:1", now, lease) == set(ids)
        mail = outbox.enqueue(s, message_id="d1@x", kind="ack", sender="bot@x",
                              recipients=["a@x"], raw=b"x", health_data=True, now=now)
    with app.db.autocommit() as c:
        workers.register(c, "w:1:1", role="daemon", now=now, lease=lease)
        outbox.start_attempts(c, [mail], now, "w:1:1")
    holder = Database(app.db.url, schema=app.db.schema, application_name="w:1:1")
    with holder.engine.connect() as locked:
        if backend == "postgres":
            for key in (lock_key("digest", app.db.schema), -5):  # a negative one too
                assert locked.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        data = json.loads(leased.cli("doctor", "--json", check=False).stdout)
        said = leased.cli("doctor", check=False).stdout
    holder.dispose()
    held = data["holders"]
    assert [(w["id"], w["live"]) for w in held["workers"]] == [("w:1:1", True)]
    assert [(c["worker"], c["mails"], c["expired"]) for c in held["inbound_claims"]] == [
        ("w:1:1", 3, False)]
    assert [(s["worker"], s["mails"]) for s in held["sends_in_progress"]] == [("w:1:1", 1)]
    assert "processus actifs : 1" in said and "messages reçus réservés par w:1:1 : 3" in said
    assert "envois en cours par w:1:1 : 1" in said
    if backend == "postgres":
        with app.db.engine.connect() as c:  # every connection of a process says who it is
            assert c.execute(text("SELECT current_setting('application_name')")).scalar() == \
                workers.identity()
        assert [(j["job"], j["worker"]) for j in held["job_locks"]] == [("digest", "w:1:1")]
        assert "verrou de la tâche digest tenu par w:1:1" in said
        assert {"key": -5, "worker": "w:1:1"} in [
            {"key": o["key"], "worker": o["worker"]} for o in held["other_locks"]]
    else:
        assert held["job_locks"] == []
    leased.close()


@pytest.mark.parametrize(("value", "expected"), [(5, "supérieur ou égal à 10"),
                                                 ('"une minute"', "un nombre")])
def test_a_bad_lease_is_refused_naming_the_key(leased: Bot, value: object, expected: str) -> None:
    text = leased.config_path.read_text(encoding="utf-8")
    leased.config_path.write_text(text.replace(f"lease_seconds = {LEASE}",
                                               f"lease_seconds = {value}"), encoding="utf-8")
    proc = leased.cli("run", "--once", check=False)
    assert proc.returncode == 2
    assert "daemon.lease_seconds" in proc.stderr and expected in proc.stderr
    assert "Traceback" not in proc.stderr
    leased.close()
