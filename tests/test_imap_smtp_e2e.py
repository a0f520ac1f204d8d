"""The daemon against real servers: Dovecot (IMAP over TLS, client certificate) in, aiosmtpd out.

Every test drives the real command line (``mailbot run`` as a daemon, or
``mailbot run --once``) against a configuration with an IMAP inbox and two SMTP
routes: the MSSanté route (implicit TLS, client certificate, SASL EXTERNAL;
health data allowed) for ``*.mssante.fr`` and, by default, a patients' ordinary
provider (STARTTLS, password; never health data). Faults are real: a TCP proxy
cutting the IMAP connection in the middle of a FETCH, Dovecot stopped and
restarted, the SMTP server answering 421/451/550, the bot killed between the
commit and the MOVE.

The main scenario runs on both database backends; the fault scenarios on SQLite
only, to keep the whole file under a minute.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mailbot.app import App
from mailbot.clock import Clock
from mailbot.config import load_config
from mailbot.inbound.pipeline import PassReport, Pipeline
from mailbot.outbound.delivery import START_GROUP, OutboxWorker
from mailbot.transports.factory import inbound_transport
from store import outbox
from store.models import Alert, Entry, InboundMessage, OutboxMessage
from tests.helpers import ROOT, Bot, render_config
from tests.servers.dovecot import DovecotServer
from tests.servers.pki import TEST_PASSWORD, TEST_USER, Pki
from tests.servers.proxy import CuttingProxy
from tests.servers.smtp import SmtpServer
from tests.test_intake_e2e import COMPLETE, DAC

BOT_ADDRESS = "liste-attente@cpts-exemple.mssante.fr"
COORDINATOR = "coordination@cpts-exemple.mssante.fr"
CCAS = "ccas@mairie-exemple.fr"  # a partner outside MSSanté: ordinary provider
NAMES = ["MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS",
         "MOREAU", "LAURENT", "SIMON", "MICHEL"]
DOCTORS = ["dr.a@medecin.mssante.fr", "dr.b@medecin.mssante.fr", "dr.c@medecin.mssante.fr"]


def referral(index: int, *, sender: str = DAC, padding: int = 0) -> bytes:
    """A complete referral form for patient ``NAMES[index]`` (``padding``: a scan attached)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = BOT_ADDRESS
    msg["Subject"] = "Fiche de saisine"
    msg["Date"] = "Mon, 16 Nov 2026 10:00:00 +0100"
    msg["Message-ID"] = f"<e2e-{index}@{sender.split('@')[1]}>"
    msg.set_content(COMPLETE.replace("MARTIN", NAMES[index]).replace("02/05/1950",
                                                                      f"02/05/{1940 + index}"))
    if padding:
        msg.add_attachment((bytes(range(256)) * (padding // 256 + 1))[:padding],
                           maintype="image", subtype="png", filename="scan.png")
    return msg.as_bytes()


# -- configuration and processes ---------------------------------------------------------------


def sections(database: dict[str, str], dovecot: DovecotServer, pki: Pki, mssante: SmtpServer,
             provider: SmtpServer, *, imap_port: int | None = None,
             **inbound: Any) -> dict[str, dict[str, Any]]:
    """The configuration: IMAPS with the client certificate, the provider as default route."""
    return {
        "identity": {"address": BOT_ADDRESS, "name": "CPTS Exemple", "nil": "NIL-TEST-0001"},
        "database": dict(database),
        "inbound": {
            "transport": "imap", "host": dovecot.host, "port": imap_port or dovecot.imaps_port,
            "tls": "implicit", "client_cert": str(pki.client_cert),
            "client_key": str(pki.client_key), "ca_file": str(pki.ca_cert),
            "timeout_seconds": 5.0, "poll_seconds": 30.0, **inbound,
        },
        "outbound": {
            "transport": "smtp", "host": provider.host, "port": provider.starttls_port,
            "tls": "starttls", "user": TEST_USER, "password": TEST_PASSWORD,
            "ca_file": str(pki.ca_cert), "secure": False, "timeout_seconds": 5.0,
            "retry_base_seconds": 0.3, "retry_max_seconds": 2.0, "max_attempts": 5,
        },
        "senders": {"partners": ["dac16.mssante.fr", CCAS], "coordinators": [COORDINATOR]},
    }


def mssante_route(mssante: SmtpServer, pki: Pki, **overrides: Any) -> dict[str, Any]:
    """The MSSanté route: implicit TLS, client certificate (SASL EXTERNAL), health data allowed."""
    return {"transport": "smtp", "host": mssante.host, "port": mssante.tls_port,
            "tls": "implicit", "client_cert": str(pki.client_cert),
            "client_key": str(pki.client_key), "ca_file": str(pki.ca_cert), "secure": True,
            "domains": ["mssante.fr", "*.mssante.fr"], "timeout_seconds": 5.0, **overrides}


def write_config(path: Path, config: dict[str, dict[str, Any]],
                 routes: list[dict[str, Any]]) -> None:
    """``config`` as TOML, plus one ``[[outbound.routes]]`` table per route."""
    path.write_text(render_config(config, routes=routes), encoding="utf-8")


def make_bot(root: Path, config: dict[str, dict[str, Any]], routes: list[dict[str, Any]]) -> Bot:
    """A migrated bot in ``root`` with this configuration."""
    write_config(root / "mailbot.toml", config, routes)
    app = App.from_config(load_config(root / "mailbot.toml"))
    app.db.migrate()
    return Bot(root=root, sections=config, app=app)


@dataclass
class Daemon:
    """``mailbot run --log-format json`` in a child process; its log in a file."""

    proc: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        """The JSON log records so far."""
        records = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                records.append(json.loads(line))
        return records

    def text(self) -> str:
        """The raw log."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> int:
        """SIGTERM, then the exit code (the test fails if the daemon does not stop)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("the daemon did not stop on SIGTERM:\n" + self.text()) from None

    async def async_stop(self) -> int:
        """:meth:`stop` letting the test's event loop (a proxy the daemon talks through) run."""
        self.proc.send_signal(signal.SIGTERM)
        for _ in range(600):
            if self.proc.poll() is not None:
                return self.proc.returncode
            await asyncio.sleep(0.05)
        return self.stop()


@pytest.fixture
def daemons() -> Iterator[Callable[..., Daemon]]:
    """Start daemons; any still running at the end is killed."""
    started: list[Daemon] = []

    def start(bot: Bot, env: dict[str, str] | None = None) -> Daemon:
        log = bot.root / f"daemon-{len(started)}.log"
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        with open(log, "wb") as handle:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mailbot", "--config", str(bot.config_path), "run",
                 "--log-format", "json"], stdout=subprocess.DEVNULL, stderr=handle, env=full_env,
                cwd=bot.root)
        daemon = Daemon(proc, log)
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait(10)


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, what: str = "",
             daemon: Daemon | None = None) -> None:
    """Poll ``predicate`` until true; fail with the daemon's log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if daemon is not None and daemon.proc.poll() is not None:
            raise AssertionError(f"daemon exited ({daemon.proc.returncode}) waiting for {what}:\n"
                                 + daemon.text()[-4000:])
        time.sleep(0.05)
    log = daemon.text()[-4000:] if daemon is not None else ""
    raise AssertionError(f"timed out waiting for {what}\n{log}")


async def async_wait_for(predicate: Callable[[], object], timeout: float, what: str,
                         daemon: Daemon) -> None:
    """:func:`wait_for` that lets the test's event loop (the proxy) run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if daemon.proc.poll() is not None:
            raise AssertionError(f"daemon exited waiting for {what}:\n" + daemon.text()[-4000:])
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}\n" + daemon.text()[-4000:])


def run_once(bot: Bot) -> PassReport:
    """What ``mailbot run --once`` does, in-process (no interpreter start-up)."""
    config = bot.app.config
    transport = inbound_transport(config.inbound, config.source.parent if config.source else None)
    return asyncio.run(Pipeline(bot.app, transport).run_once())


def inbound_states(bot: Bot) -> dict[str, int]:
    """Inbound messages by state."""
    with bot.app.db.sessions() as session:
        rows = session.execute(select(InboundMessage.state, func.count())
                               .group_by(InboundMessage.state)).all()
    return {str(state): int(count) for state, count in rows}


def outbox_rows(bot: Bot) -> list[OutboxMessage]:
    """Every outbox row, oldest first."""
    with bot.app.db.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def alerts(bot: Bot) -> list[Alert]:
    """Every alert row."""
    with bot.app.db.sessions() as session:
        return list(session.scalars(select(Alert).order_by(Alert.id)))


def message_id(raw: bytes) -> str:
    """The Message-ID header of a raw mail, as the outbox keeps it."""
    return str(message_from_bytes(raw)["Message-ID"]).strip()


def to(server: SmtpServer, recipient: str) -> list[bytes]:
    """Messages ``server`` accepted for ``recipient``."""
    return [m.raw for m in server.messages if recipient in m.recipients]


@pytest.fixture(scope="module")
def provider(pki: Pki) -> Iterator[SmtpServer]:
    """The patients' ordinary provider: STARTTLS and password, no client certificate."""
    server = SmtpServer(pki, require_client_cert=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def plain_smtp(provider: SmtpServer) -> SmtpServer:
    """:func:`provider`, emptied for this test."""
    provider.handler.reset()
    return provider


@pytest.fixture
def sqlite_section(tmp_path: Path) -> dict[str, str]:
    """A SQLite database of this test (fault scenarios run on one backend)."""
    return {"url": f"sqlite:///{tmp_path / 'var' / 'mailbot.db'}"}


# -- the tests ---------------------------------------------------------------------------------


def test_daemon_reads_over_imaps_and_answers_by_route(
        tmp_path: Path, database_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, plain_smtp: SmtpServer,
        daemons: Callable[..., Daemon]) -> None:
    config = sections(database_section, dovecot, pki, smtp_server, plain_smtp)
    bot = make_bot(tmp_path, config, [mssante_route(smtp_server, pki)])
    dovecot.deliver(referral(0))
    dovecot.deliver(referral(1))
    dovecot.deliver(referral(2, sender=CCAS))           # health data in the answer: refused
    dovecot.deliver(referral(3, sender="x@example.org"))  # unknown sender: quarantined
    with bot.app.db.transaction() as session:  # no health data: may go to a personal address
        outbox.enqueue(session, message_id="recontact-1@cpts-exemple.mssante.fr", kind="recontact",
                       sender=BOT_ADDRESS, recipients=["patient@fai-exemple.fr"],
                       raw=b"Subject: Toujours sans medecin ?\r\n\r\nRepondez OUI ou NON.\r\n",
                       health_data=False, now=bot.app.clock.now())

    daemon = daemons(bot)
    wait_for(lambda: len(to(smtp_server, DAC)) == 2 and to(smtp_server, COORDINATOR)
             and to(plain_smtp, "patient@fai-exemple.fr"), what="answers", daemon=daemon)
    wait_for(lambda: len(dovecot.messages("Traites")) == 3, what="mails moved", daemon=daemon)

    # A new mail while the daemon waits in IDLE is answered within two seconds.
    started = time.monotonic()
    dovecot.deliver(referral(4))
    wait_for(lambda: len(to(smtp_server, DAC)) == 3, timeout=10, what="IDLE", daemon=daemon)
    latency = time.monotonic() - started
    assert latency < 2.0, latency

    # SIGHUP reloads the configuration: the next mail goes to the new processed folder.
    config["inbound"]["processed_folder"] = "Traites-2026"
    write_config(bot.config_path, config, [mssante_route(smtp_server, pki)])
    daemon.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: any(r["message"] == "configuration reloaded" for r in daemon.lines()),
             what="reload", daemon=daemon)
    dovecot.deliver(referral(5))
    wait_for(lambda: dovecot.messages("Traites-2026"), what="new folder", daemon=daemon)
    wait_for(lambda: len(to(smtp_server, DAC)) == 4, what="4th ack", daemon=daemon)

    assert daemon.stop() == 0
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Traites")) == 4 and len(dovecot.messages("Traites-2026")) == 1
    assert dovecot.messages("Quarantaine") == [referral(3, sender="x@example.org")]
    assert inbound_states(bot) == {"processed": 5, "quarantined": 1}
    assert "method=EXTERNAL" in dovecot.log_tail(200)  # the client certificate logged us in

    # The MSSanté route carried the acknowledgements (certificate, SASL EXTERNAL, X-MSS-NIL)…
    assert {m.auth for m in smtp_server.messages} == {f"EXTERNAL:{TEST_USER}"}
    assert all(b"X-MSS-NIL: NIL-TEST-0001" in raw for raw in to(smtp_server, DAC))
    # …the provider only the mail without health data; the answer to the partner outside
    # MSSanté was refused, never sent, and the coordinators were told at once.
    assert [m.recipients for m in plain_smtp.messages] == [["patient@fai-exemple.fr"]]
    rows = outbox_rows(bot)
    assert sorted((r.recipients[0], r.state, r.route) for r in rows) == sorted([
        (DAC, "sent", "route1")] * 4 + [(CCAS, "refused", None),
                                        ("patient@fai-exemple.fr", "sent", "default"),
                                        (COORDINATOR, "sent", "route1")])
    refused = [a for a in alerts(bot) if a.kind == "delivery_refused"]
    assert len(refused) == 1 and refused[0].urgent and refused[0].notified_at is not None
    assert len(to(smtp_server, COORDINATOR)) == 1

    # JSON logs, one object a line, without patient data.
    records = daemon.lines()
    assert records and {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["message"] == "daemon stopped" for r in records[-3:])
    for name in NAMES[:6]:
        assert name not in daemon.text()


async def test_imap_cut_in_the_middle_of_a_fetch(
        tmp_path: Path, sqlite_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, plain_smtp: SmtpServer, daemons: Callable[..., Daemon],
        cutting_proxy: Callable[[int], Any]) -> None:
    proxy: CuttingProxy = await cutting_proxy(dovecot.imaps_port)
    config = sections(sqlite_section, dovecot, pki, smtp_server, plain_smtp, imap_port=proxy.port)
    bot = make_bot(tmp_path, config, [mssante_route(smtp_server, pki)])
    for index in range(4):
        dovecot.deliver(referral(index, padding=60_000))
    proxy.cut_after(100_000)  # TLS set-up, login, SELECT… then the middle of the 2nd body

    daemon = daemons(bot)
    await async_wait_for(lambda: len(dovecot.messages("Traites")) == 4 and
                         len(to(smtp_server, DAC)) == 4, 30, "all mails", daemon)
    await asyncio.sleep(0.3)  # nothing more comes
    assert await daemon.async_stop() == 0
    assert proxy.cuts == 1
    assert inbound_states(bot) == {"processed": 4}
    assert len(smtp_server.messages) == 4 and dovecot.messages("INBOX") == []
    with bot.app.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 4
    faults = [r for r in daemon.lines() if r["message"].startswith("inbound failed")]
    assert len(faults) == 1 and "UID FETCH interrompu" in faults[0]["message"], faults
    assert any(r["message"].startswith("inbound back") for r in daemon.lines())


def test_dovecot_stopped_and_restarted_while_the_daemon_runs(
        tmp_path: Path, sqlite_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, plain_smtp: SmtpServer, daemons: Callable[..., Daemon]) -> None:
    bot = make_bot(tmp_path, sections(sqlite_section, dovecot, pki, smtp_server, plain_smtp),
                   [mssante_route(smtp_server, pki)])
    daemon = daemons(bot)
    dovecot.deliver(referral(0))
    wait_for(lambda: len(to(smtp_server, DAC)) == 1, what="first ack", daemon=daemon)

    dovecot.stop()  # the IDLE session is cut, reconnections are refused
    dovecot.deliver(referral(1))
    wait_for(lambda: sum(r["message"].startswith("inbound failed") for r in daemon.lines()) >= 2,
             what="failed reconnections", daemon=daemon)
    dovecot.start()
    wait_for(lambda: len(to(smtp_server, DAC)) == 2, timeout=15, what="second ack", daemon=daemon)
    assert daemon.stop() == 0

    assert inbound_states(bot) == {"processed": 2} and len(smtp_server.messages) == 2
    assert len(dovecot.messages("Traites")) == 2 and dovecot.messages("INBOX") == []
    faults = [r for r in daemon.lines() if r["message"].startswith("inbound failed")]
    assert all(r["level"] == "WARNING" and "TransportTemporaryError" in r["message"]
               for r in faults), faults
    assert any("connexion impossible" in r["message"] for r in faults)


def test_smtp_421_then_451_then_accepted_is_delivered_once_later(
        tmp_path: Path, sqlite_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, plain_smtp: SmtpServer, daemons: Callable[..., Daemon]) -> None:
    bot = make_bot(tmp_path, sections(sqlite_section, dovecot, pki, smtp_server, plain_smtp),
                   [mssante_route(smtp_server, pki)])
    # 421 on the connection opened for the pass: the transport reconnects at once; 421
    # again on the new one: retried later. Then 451: later again. Then accepted.
    smtp_server.handler.fail_next("421 4.3.2 Service momentanément indisponible", times=2)
    smtp_server.handler.fail_next("451 4.3.0 Réessayez plus tard")
    dovecot.deliver(referral(0))
    daemon = daemons(bot)
    wait_for(lambda: to(smtp_server, DAC), what="ack", daemon=daemon)
    time.sleep(0.5)  # a resend would show now
    assert daemon.stop() == 0

    assert len(smtp_server.messages) == 1 and smtp_server.handler.transactions == 4
    (row,) = outbox_rows(bot)
    assert row.state == "sent" and row.attempts == 3 and row.sent_at is not None
    assert (row.sent_at - row.created_at).total_seconds() >= 0.3 + 0.6  # backoff 0.3 s, 0.6 s
    assert alerts(bot) == []


async def test_smtp_550_for_one_recipient_among_several(
        tmp_path: Path, sqlite_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, plain_smtp: SmtpServer) -> None:
    # Our mails have one recipient each: the per-recipient report is tested at the worker
    # level, with multi-recipient outbox rows, against the real server.
    bot = make_bot(tmp_path, sections(sqlite_section, dovecot, pki, smtp_server, plain_smtp),
                   [mssante_route(smtp_server, pki)])
    a, b, c = DOCTORS
    now = dt.datetime.now(dt.UTC)
    bot.app.clock = Clock(frozen=now)  # the retry falls due when the test moves the clock
    with bot.app.db.transaction() as session:
        partial = outbox.enqueue(session, message_id="m1@cpts-exemple.mssante.fr", kind="digest",
                                 sender=BOT_ADDRESS, recipients=[b, c, a],
                                 raw=b"Subject: 1\r\n\r\n1\r\n", health_data=True, now=now)
        refused = outbox.enqueue(session, message_id="m2@cpts-exemple.mssante.fr", kind="digest",
                                 sender=BOT_ADDRESS, recipients=[a, b],
                                 raw=b"Subject: 2\r\n\r\n2\r\n", health_data=True, now=now)
    smtp_server.handler.refuse_recipient(b, "550 5.1.1 Boîte inconnue")
    smtp_server.handler.fail_next("451 4.2.1 Boîte momentanément indisponible", stage="RCPT")

    worker = OutboxWorker(bot.app)
    assert await worker.deliver_due() == {"partial": 1, "failed": 1}
    # 1st row: b refused, c deferred (the 451), a accepted → c retried later, b escalated.
    # 2nd row: a accepted, b refused → failed and escalated, never sent again.
    assert [(m.recipients, m.raw) for m in smtp_server.messages] == [
        ([a], b"Subject: 1\r\n\r\n1\r\n"), ([a], b"Subject: 2\r\n\r\n2\r\n")]
    assert await worker.deliver_due() == {}  # the retry is not due yet
    bot.app.clock = Clock(frozen=now + dt.timedelta(seconds=1))  # retry_base_seconds = 0.3
    assert await worker.deliver_due() == {"sent": 1}
    assert await worker.deliver_due() == {}
    assert [m.recipients for m in smtp_server.messages] == [[a], [a], [c]]
    assert smtp_server.handler.connections == 2  # one connection per pass, reused within it

    rows = {row.id: row for row in outbox_rows(bot)}
    assert all(row.attempt_started_at is None for row in rows.values())  # every send recorded
    assert (rows[refused].state, rows[refused].recipients) == ("failed", [b])
    assert "550" in (rows[refused].last_error or "")
    assert (rows[partial].state, rows[partial].recipients, rows[partial].attempts) == ("sent", [c], 2)
    failed = sorted((x.kind, x.outbox_id) for x in alerts(bot))
    assert failed == sorted([("delivery_failed", refused), ("delivery_failed", partial)])
    assert all("550" in x.reason for x in alerts(bot))


def test_killed_between_commit_and_move_then_rerun(
        tmp_path: Path, sqlite_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, plain_smtp: SmtpServer, daemons: Callable[..., Daemon]) -> None:
    bot = make_bot(tmp_path, sections(sqlite_section, dovecot, pki, smtp_server, plain_smtp),
                   [mssante_route(smtp_server, pki)])
    dovecot.deliver(referral(0))
    dovecot.deliver(referral(1))
    dovecot.deliver(referral(2, sender="x@example.org"))

    crashed = daemons(bot, env={"MAILBOT_CRASH_AT": "after_commit"})
    assert crashed.proc.wait(30) == 137  # SIGKILL-like: no cleanup, no MOVE
    assert len(dovecot.messages("INBOX")) == 3 and not dovecot.messages("Traites")
    assert inbound_states(bot) == {"processed": 2, "quarantined": 1}
    assert smtp_server.messages == []

    report = run_once(bot)  # the same pipeline as « mailbot run --once », in-process
    assert report.fetched == 3 and report.delivery == {"sent": 2}
    assert run_once(bot).fetched == 0  # nothing left
    assert dovecot.messages("INBOX") == [] and len(dovecot.messages("Traites")) == 2 and len(dovecot.messages("Quarantaine")) == 1
    assert inbound_states(bot) == {"processed": 2, "quarantined": 1}  # not processed twice
    assert len(smtp_server.messages) == 2
    with bot.app.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 2


def test_killed_once_the_smtp_server_accepted_the_mail_never_resends_it(
        tmp_path: Path, sqlite_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, plain_smtp: SmtpServer, daemons: Callable[..., Daemon]) -> None:
    bot = make_bot(tmp_path, sections(sqlite_section, dovecot, pki, smtp_server, plain_smtp),
                   [mssante_route(smtp_server, pki)])
    count = START_GROUP + 2
    for index in range(count):
        dovecot.deliver(referral(index))

    crashed = daemons(bot, env={"MAILBOT_CRASH_AT": "after_send"})
    assert crashed.proc.wait(30) == 137  # killed as the server said 250, before any record
    (accepted,) = smtp_server.messages
    rows = outbox_rows(bot)
    assert [row.state for row in rows] == ["pending"] * count
    # the first acknowledgement was marked started with the next ones of its group
    started = [row for row in rows if row.attempt_started_at is not None]
    assert [row.id for row in started] == [row.id for row in rows[:START_GROUP]]
    assert started[0].message_id == message_id(accepted.raw)

    assert run_once(bot).delivery == {"sent": count - START_GROUP}  # the others only
    assert run_once(bot).delivery == {}
    assert len(smtp_server.messages) == count - START_GROUP + 1
    assert len({message_id(m.raw) for m in smtp_server.messages}) == count - START_GROUP + 1

    # A quarter of an hour later the group is escalated, never sent (again) by the bot.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
    bot.app.clock = Clock(frozen=later)
    assert asyncio.run(OutboxWorker(bot.app).deliver_due()) == {"uncertain": START_GROUP}
    assert asyncio.run(OutboxWorker(bot.app).deliver_due()) == {}
    assert len(smtp_server.messages) == count - START_GROUP + 1
    escalated = [r for r in outbox_rows(bot) if r.id in {s.id for s in started}]
    assert {(r.state, r.attempt_started_at) for r in escalated} == {("failed", None)}
    found = alerts(bot)
    assert sorted((a.kind, a.outbox_id) for a in found) == [
        ("delivery_uncertain", r.id) for r in escalated]
    assert all(a.entry_id is not None and "peut-être reçu" in a.reason for a in found)


def test_oversized_mail_is_quarantined_with_its_header_and_an_alert(
        tmp_path: Path, sqlite_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, plain_smtp: SmtpServer) -> None:
    config = sections(sqlite_section, dovecot, pki, smtp_server, plain_smtp, max_size_mb=0.1)
    bot = make_bot(tmp_path, config, [mssante_route(smtp_server, pki)])
    big = referral(0, padding=200_000)
    dovecot.deliver(big)
    dovecot.deliver(referral(1))
    assert run_once(bot).states == {"quarantined": 1, "processed": 1}
    assert dovecot.messages("Quarantaine") == [big] and len(dovecot.messages("Traites")) == 1
    assert inbound_states(bot) == {"processed": 1, "quarantined": 1}
    with bot.app.db.sessions() as session:
        row = session.scalars(select(InboundMessage).where(InboundMessage.kind == "too_big")).one()
        assert row.size == len(big) and row.raw is not None and len(row.raw) < 2000
        assert row.raw.startswith(b"X-Mailbot-Truncated: header only; original size")
        assert row.reason is not None and "trop volumineux" in row.reason
    (alert,) = [a for a in alerts(bot) if a.kind == "mail_too_big"]
    assert alert.inbound_message_id == row.id and "0.1 Mo" in alert.reason
    assert len(to(smtp_server, DAC)) == 1  # only the small one was answered


def test_maildir_refuses_a_huge_file_the_same_way(tmp_path: Path,
                                                  sqlite_section: dict[str, str]) -> None:
    bot = Bot.create(tmp_path, sqlite_section, {"inbound": {"max_size_mb": 0.1}})
    try:
        big = referral(0, padding=200_000)
        name = bot.drop(big)
        bot.drop(referral(1))
        assert bot.run_once().states == {"quarantined": 1, "processed": 1}
        assert (bot.inbox / ".Quarantine" / "cur" / f"{name}:2,").read_bytes() == big
        with bot.app.db.sessions() as session:
            row = session.scalars(select(InboundMessage).where(InboundMessage.kind == "too_big")).one()
            assert row.size == len(big) and row.raw is not None and len(row.raw) < 2000
        assert [a.kind for a in alerts(bot)] == ["mail_too_big"]
        assert len(bot.sent()) == 1
    finally:
        bot.close()
