"""The inbound leader role (one process reads the mailbox) and the set-aside of mails that
another process processed, on the real PostgreSQL (and SQLite, where one process leads)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.config import load_config
from mailbot.daemon.leader import InboundLeader
from mailbot.doctor.local import leader_checks
from mailbot.errors import ConfigError
from mailbot.inbound import pipeline as pipeline_module
from mailbot.inbound.mailbox import lock_key, mailbox_name
from mailbot.inbound.pipeline import Pipeline
from mailbot.transports.factory import inbound_transport
from mailbot.transports.imap import ImapInbound
from mailbot.transports.maildir import MaildirInbound
from store import inbound
from store.models import AuditRecord, InboundMessage, OutboxMessage
from tests.helpers import Bot
from tests.servers.dovecot import DovecotServer
from tests.servers.pki import Pki
from tests.test_intake_e2e import COMPLETE, DAC, mail
from tests.transports.mailgen import imap_config, make_mail

postgres_only = pytest.mark.parametrize("backend", ["postgres"])


@pytest.fixture
def other(bot: Bot) -> Iterator[App]:
    """A second process's application on the same database (its own engine, its own pool)."""
    app = App.from_config(load_config(bot.config_path))
    yield app
    app.db.dispose()


def _holder_pid(app: App) -> int | None:
    """The backend holding the mailbox's leader lock, from ``pg_locks``."""
    key = lock_key("inbound-leader", app.db.schema, mailbox_name(app.config.inbound))
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    with app.db.engine.connect() as connection:
        return connection.execute(text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid::text::bigint = :hi AND objid::text::bigint = :lo"),
            {"hi": unsigned >> 32, "lo": unsigned & 0xFFFF_FFFF}).scalar()


@postgres_only
def test_one_process_leads_a_mailbox_and_hands_over_when_its_connection_dies(
        bot: Bot, other: App, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mailbot.daemon.leader")
    first, second = InboundLeader(), InboundLeader()
    assert first.acquire(bot.app) and first.check()
    assert not second.acquire(other) and not second.check()
    assert first.acquire(bot.app)  # taking it again while leading: still the leader
    holder = _holder_pid(bot.app)
    assert holder is not None

    # The leader's lock connection is cut: it notices at its next check, the other takes over.
    with other.db.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": holder})
        # pg_terminate_backend only signals: the backend (and its lock) goes a moment later
        for _ in range(100):
            if admin.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                             {"p": holder}).scalar() == 0:
                break
            time.sleep(0.05)
    assert second.acquire(other)
    assert not first.check()
    assert not first.acquire(bot.app)
    assert _holder_pid(bot.app) not in (None, holder)

    # A clean release frees it at once.
    second.release()
    second.release()  # twice: harmless
    assert first.acquire(bot.app)
    first.release()
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("inbound leader acquired") == 3
    assert any(m.startswith("inbound leader lost (database connection") for m in messages)
    # Each process says once that it follows (the second at first, the first after its loss).
    assert messages.count("inbound leader is another process: processing stored mails only") == 2
    assert messages.count("inbound leader released") == 2


@postgres_only
def test_each_schema_and_mailbox_has_its_own_leader(bot: Bot, other: App, tmp_path: Path) -> None:
    mine = InboundLeader()
    assert mine.acquire(bot.app)
    try:
        moved = other.config.model_copy(update={"inbound": other.config.inbound.model_copy(
            update={"path": tmp_path / "another-inbox"})})
        elsewhere = App.from_config(moved)
        try:
            assert InboundLeader().acquire(elsewhere)  # another Maildir: another role
        finally:
            elsewhere.db.dispose()
    finally:
        mine.release()
    inbound = bot.app.config.inbound
    assert lock_key("inbound-leader", "a", mailbox_name(inbound)) != lock_key(
        "inbound-leader", "b", mailbox_name(inbound))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_on_sqlite_the_daemon_always_leads(bot: Bot) -> None:
    leader = InboundLeader()
    assert leader.acquire(bot.app) and leader.check() and leader.held
    leader.release()


def _ingest_while_another_process_holds(bot: Bot, other: App) -> tuple[Pipeline, Session]:
    """The leader fetches and stores two mails, but another process locks the stored rows
    before the leader processes them (``SKIP LOCKED`` leaves them to it). Returns the
    leader's pipeline and the other process's session, its transaction still open."""
    bot.drop(mail(DAC, COMPLETE, message_id="l1@dac16.mssante.fr"))
    bot.drop(mail(DAC, COMPLETE.replace("MARTIN", "PETIT"), message_id="l2@dac16.mssante.fr"))
    leader = Pipeline(bot.app, inbound_transport(bot.app.config.inbound))
    holder = other.db.sessions()
    locked: list[int] = []

    def after_store(name: str) -> None:
        if name == "after_store":
            holder.begin()
            locked.extend(holder.scalars(select(InboundMessage.id).where(
                InboundMessage.state == "received").with_for_update()))

    original = pipeline_module.checkpoint
    pipeline_module.checkpoint = after_store  # type: ignore[assignment]
    try:
        report = asyncio.run(leader.ingest())
    finally:
        pipeline_module.checkpoint = original
    assert report.fetched == 2 and sum(report.states.values()) == 0
    assert len(locked) == 2 and sorted(leader.unsettled.values()) == sorted(locked)
    return leader, holder


def _inbox_names(bot: Bot, sub: str) -> list[str]:
    return sorted(p.name for p in (bot.inbox / sub).iterdir())


@postgres_only
def test_a_mail_another_process_processed_is_set_aside_once_by_the_leader(
        bot: Bot, other: App) -> None:
    leader, holder = _ingest_while_another_process_holds(bot, other)
    assert len(_inbox_names(bot, "new")) == 2  # not set aside: not processed yet
    assert asyncio.run(leader.inbound.fetch(None, leader.unsettled)) == []  # not read again
    assert asyncio.run(leader.settle()) == 0  # still held elsewhere: nothing to do yet

    holder.rollback()
    holder.close()
    follower = Pipeline(other, inbound_transport(other.config.inbound))  # never opened
    assert dict(follower.process_leftovers()) == {"processed": 2}
    assert asyncio.run(leader.settle()) == 2
    assert _inbox_names(bot, "new") == [] and len(_inbox_names(bot, "cur")) == 2
    assert leader.unsettled == {}
    assert asyncio.run(leader.settle()) == 0
    assert asyncio.run(leader.ingest()).fetched == 0
    with bot.app.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 2
        finishes = session.scalar(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.action == "inbound.finish"))
        acks = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert finishes == 2 and acks == 2  # processed once each


@postgres_only
def test_mails_the_other_process_left_are_processed_by_the_leader_when_it_settles(
        bot: Bot, other: App) -> None:
    leader, holder = _ingest_while_another_process_holds(bot, other)
    holder.rollback()  # it died before processing: its locks are gone
    holder.close()
    assert asyncio.run(leader.settle()) == 2
    assert _inbox_names(bot, "new") == [] and len(_inbox_names(bot, "cur")) == 2
    with bot.app.db.sessions() as session:
        states = session.scalars(select(InboundMessage.state)).all()
    assert sorted(states) == ["processed", "processed"]


@postgres_only
def test_doctor_says_which_process_reads_the_mailbox(bot: Bot, other: App) -> None:
    (nobody,) = leader_checks(bot.app)
    assert nobody.ok and "aucun « mailbot run » ne la relève" in nobody.detail
    leader = InboundLeader()
    assert leader.acquire(other)
    try:
        (check,) = leader_checks(bot.app)
        assert check.ok and f"{os.getpid()}@{socket.gethostname()}" in check.detail, check
        out = bot.cli("doctor", check=False).stdout
        assert f"relève de la boîte : par « mailbot run » {os.getpid()}@" in out, out
    finally:
        leader.release()
    assert "aucun" in leader_checks(bot.app)[0].detail


@postgres_only
def test_two_processes_storing_one_delivery_at_once_store_it_once(bot: Bot, other: App) -> None:
    """A leader that lost its role mid-pass and its successor fetch the same mail: the second
    store waits for the first's commit, then recognises the delivery."""
    key = lock_key("inbound-store", bot.app.db.schema, mailbox_name(bot.app.config.inbound))
    raw = mail(DAC, COMPLETE, message_id="s1@dac16.mssante.fr")
    incoming = [inbound.Incoming("00001.test", raw, "s1@dac16.mssante.fr", DAC)]
    results: list[inbound.Stored] = []

    def successor() -> None:
        with other.db.transaction() as session:
            inbound.serialize_stores(session, key)
            results.extend(inbound.store_many(session, incoming, other.clock.now()))

    with bot.app.db.transaction() as session:
        inbound.serialize_stores(session, key)
        (first,) = inbound.store_many(session, incoming, bot.app.clock.now())
        thread = threading.Thread(target=successor)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive() and results == []  # waits for this commit
    thread.join(10)
    assert first.state == "received" and not first.already_stored
    assert [(r.inbound_id, r.already_stored) for r in results] == [(first.inbound_id, True)]
    with bot.app.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1


@pytest.mark.parametrize(("value", "expected"), [
    ("0", "un nombre plus grand que 0"), ("601", "un nombre inférieur ou égal à 600"),
    ('"vite"', "un nombre, ex. 2.5")])
def test_a_bad_leader_retry_interval_is_named_in_french(tmp_path: Path, value: str,
                                                        expected: str) -> None:
    path = tmp_path / "mailbot.toml"
    path.write_text('[identity]\naddress = "liste@cpts.mssante.fr"\nname = "CPTS"\n'
                    f'[inbound]\ntransport = "maildir"\npath = "in"\nleader_retry_seconds = {value}\n'
                    '[outbound]\ntransport = "maildir"\npath = "out"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "inbound.leader_retry_seconds" in str(caught.value) and expected in str(caught.value)
    path.write_text(path.read_text(encoding="utf-8").replace(f"= {value}\n", "= 2.5\n"),
                    encoding="utf-8")
    assert load_config(path).inbound.leader_retry_seconds == 2.5


async def test_a_fetch_leaves_out_the_mails_another_process_is_processing(
        dovecot: DovecotServer, pki: Pki, tmp_path: Path) -> None:
    first, second, third = make_mail("un"), make_mail("deux"), make_mail("trois")
    for raw in (first, second, third):
        dovecot.deliver(raw)
    imap = ImapInbound(imap_config(dovecot, pki, tls="implicit", auth="cert"),
                       tmp_path / "state.json")
    await imap.open()
    try:
        a, b, c = await imap.fetch()
        assert [m.raw for m in await imap.fetch(None, {a.key, c.key})] == [second]
        assert [m.key for m in await imap.fetch(1, {a.key})] == [b.key]
    finally:
        await imap.close()
    maildir = MaildirInbound(tmp_path / "box")
    await maildir.open()
    for name, raw in (("1", first), ("2", second)):
        (tmp_path / "box" / "new" / name).write_bytes(raw)
    assert [m.key for m in await maildir.fetch(None, {"1"})] == ["2"]
    assert [m.key for m in await maildir.fetch()] == ["1", "2"]


@postgres_only
def test_run_once_leaves_a_mailbox_a_daemon_reads_alone(bot: Bot, other: App) -> None:
    bot.drop(mail(DAC, COMPLETE, message_id="o1@dac16.mssante.fr"))
    daemon = InboundLeader()
    assert daemon.acquire(other)
    try:
        out = bot.cli("run", "--once").stdout
        assert "relevée par un autre processus" in out and "Messages reçus : 0" in out, out
        assert len(_inbox_names(bot, "new")) == 1
    finally:
        daemon.release()
    out = bot.cli("run", "--once").stdout
    assert "autre processus" not in out and "Messages reçus : 1" in out, out
    assert _inbox_names(bot, "new") == []
