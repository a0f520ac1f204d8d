"""Two ``mailbot run`` on one PostgreSQL schema and one Dovecot mailbox: one reads the mailbox
(the inbound leader), both process what is stored; killed by SIGKILL, the leader is replaced.

Real processes, real Dovecot (IMAPS, client certificate), real PostgreSQL, real SMTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from mailbot.daemon.leader import APPLICATION, holder
from store import inbound
from store.models import Entry, InboundMessage
from tests.servers.dovecot import DovecotServer
from tests.servers.pki import Pki
from tests.servers.smtp import SmtpServer
from tests.test_imap_smtp_e2e import (  # noqa: F401  (provider, plain_smtp, daemons: fixtures)
    DAC,
    NAMES,
    Daemon,
    daemons,
    inbound_states,
    make_bot,
    message_id,
    mssante_route,
    plain_smtp,
    provider,
    referral,
    sections,
    to,
    wait_for,
)

ACQUIRED = "inbound leader acquired"
FOLLOWING = "inbound leader is another process: processing stored mails only"
CONNECTED = "connecté, dossier sélectionné"


def _said(daemon: Daemon, message: str) -> int:
    """How many log records of ``daemon`` contain ``message``."""
    return sum(message in record["message"] for record in daemon.lines())


def _logins(dovecot: DovecotServer) -> int:
    """IMAP logins Dovecot accepted so far."""
    log = (dovecot.root / "dovecot.log").read_text(encoding="utf-8", errors="replace")
    return sum("imap-login: " in line and "Login: user=" in line for line in log.splitlines())


def _sessions_ended(dovecot: DovecotServer) -> int:
    """IMAP sessions that ended (logged out or disconnected) so far."""
    log = (dovecot.root / "dovecot.log").read_text(encoding="utf-8", errors="replace")
    return sum(" imap(" in line and ("Logged out" in line or "Disconnected" in line)
               for line in log.splitlines())


@pytest.mark.parametrize("backend", ["postgres"])
def test_two_daemons_one_reads_the_mailbox_and_a_killed_leader_is_replaced(
        tmp_path: Path, database_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, plain_smtp: SmtpServer,  # noqa: F811
        daemons: Callable[..., Daemon]) -> None:  # noqa: F811
    config = sections(database_section, dovecot, pki, smtp_server, plain_smtp,
                      leader_retry_seconds=1.0)
    bot = make_bot(tmp_path, config, [mssante_route(smtp_server, pki)])
    first = daemons(bot)
    wait_for(lambda: _said(first, ACQUIRED) and _said(first, CONNECTED), what="leader",
             daemon=first)
    second = daemons(bot)
    wait_for(lambda: _said(second, FOLLOWING), what="follower", daemon=second)

    for index in range(4):
        dovecot.deliver(referral(index))
    wait_for(lambda: len(to(smtp_server, DAC)) == 4 and len(dovecot.messages("Traites")) == 4,
             what="4 mails answered and set aside", daemon=first)

    # Mails stored but not processed (as if their reader had died): the follower takes them.
    with bot.app.db.transaction() as session:
        rows = inbound.store_many(session, [
            inbound.Incoming(f"stored:{index}", referral(index), message_id(referral(index))[1:-1],
                             DAC) for index in (4, 5)], bot.app.clock.now())
    wait_for(lambda: inbound_states(bot) == {"processed": 6}, what="stored mails processed",
             daemon=second)
    for row in rows:
        assert _said(second, f"inbound {row.inbound_id} → processed") == 1
        assert _said(first, f"inbound {row.inbound_id} → ") == 0
    assert _logins(dovecot) == 1 and _said(second, CONNECTED) == 0  # only the leader logged in

    # The leader is killed: the follower takes the mailbox over within the retry interval.
    first.proc.kill()
    first.proc.wait(10)
    killed = time.monotonic()
    wait_for(lambda: _said(second, ACQUIRED) and _said(second, CONNECTED), timeout=15,
             what="takeover", daemon=second)
    takeover = time.monotonic() - killed
    assert takeover < 5.0, takeover
    for index in (6, 7):
        dovecot.deliver(referral(index))
    wait_for(lambda: len(to(smtp_server, DAC)) == 8 and len(dovecot.messages("Traites")) == 6,
             what="mails after the takeover", daemon=second)
    time.sleep(0.5)  # a second answer or a second move would show now
    assert second.stop() == 0

    # Each mail stored once, processed once, answered once, moved once.
    assert inbound_states(bot) == {"processed": 8}
    with bot.app.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InboundMessage)) == 8
        assert session.scalar(select(func.count(func.distinct(InboundMessage.message_id)))) == 8
        assert session.scalar(select(func.count()).select_from(Entry)) == 8
    answers = [message_id(raw) for raw in to(smtp_server, DAC)]
    assert len(answers) == len(set(answers)) == 8
    assert dovecot.messages("INBOX") == [] and len(dovecot.messages("Traites")) == 6
    assert _logins(dovecot) == 2  # the first leader, then the second
    assert _said(second, "inbound leader released") == 1
    for daemon in (first, second):
        for name in NAMES[:8]:
            assert name not in daemon.text()


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_leader_whose_lock_connection_is_cut_stops_reading_the_mailbox(
        tmp_path: Path, database_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, plain_smtp: SmtpServer,  # noqa: F811
        daemons: Callable[..., Daemon]) -> None:  # noqa: F811
    config = sections(database_section, dovecot, pki, smtp_server, plain_smtp,
                      leader_retry_seconds=1.0)
    bot = make_bot(tmp_path, config, [mssante_route(smtp_server, pki)])
    first = daemons(bot)
    wait_for(lambda: _said(first, CONNECTED), what="leader", daemon=first)
    second = daemons(bot)
    wait_for(lambda: _said(second, FOLLOWING), what="follower", daemon=second)
    assert holder(bot.app) is not None and holder(bot.app)[0].startswith(f"{first.proc.pid}@")

    with bot.app.db.engine.connect() as admin:  # the database drops the leader's connection
        cut = admin.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name LIKE :name"), {"name": f"{APPLICATION}{first.proc.pid}@%"}
        ).scalars().all()
    assert cut == [True]
    wait_for(lambda: _said(first, "inbound leader lost"), timeout=10, what="loss", daemon=first)
    wait_for(lambda: holder(bot.app) is not None, timeout=10, what="a new leader", daemon=second)
    now = holder(bot.app)
    assert now is not None
    leader, follower = (first, second) if now[0].startswith(f"{first.proc.pid}@") else (
        second, first)
    dovecot.deliver(referral(0))
    wait_for(lambda: len(to(smtp_server, DAC)) == 1 and len(dovecot.messages("Traites")) == 1,
             what="the mail after the cut", daemon=leader)
    time.sleep(0.5)
    assert inbound_states(bot) == {"processed": 1} and len(smtp_server.messages) == 1
    # Whoever leads now logged in again; the first closed its session when it lost the role.
    assert _said(first, CONNECTED) + _said(second, CONNECTED) == 2 == _logins(dovecot)
    assert _said(leader, ACQUIRED) >= 1 and _said(follower, CONNECTED) <= 1
    assert _sessions_ended(dovecot) == 1  # the first left the mailbox: one IMAP session open
    assert first.stop() == 0 and second.stop() == 0
