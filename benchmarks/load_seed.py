"""The world of ``benchmarks/load.py`` before the daemons start: a fresh PostgreSQL schema,
one configuration per daemon, and what replies need to answer — waiting entries asked by
a recontact round (patients' replies, bounces) and proposals to GPs (GPs' replies)."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from mailbot.app import App
from mailbot.clock import PARIS
from mailbot.config import load_config
from mailbot.config.minimal import merged, minimal_sections, render_toml
from mailbot.jobs.schedule import run_job
from store.db import Database
from store.models import OutboxMessage, Token
from tests.servers.dovecot import DovecotServer
from tests.servers.pki import Pki
from tests.test_matching_support import add_entry, add_gp

BOT = "liste-attente@cpts-exemple.mssante.fr"
PG_URL = os.environ.get("MAILBOT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
JOBS_OFF = ("digest", "followup", "proposals", "proposals_expiry", "recontact", "retention")


@dataclass
class LoadSchema:
    """The run's schema on the test server, and the tag its daemons' connections carry."""

    schema: str = field(default_factory=lambda: f"mailbot_load_{os.getpid()}_{secrets.token_hex(3)}")

    @property
    def application_name(self) -> str:
        """``application_name`` of every connection of the bot (and of nothing else)."""
        return self.schema.replace("mailbot_", "mailbot-")

    @property
    def bot_url(self) -> str:
        """The URL the daemons use: tagged, so that the faults cut only their connections."""
        return f"{PG_URL}?application_name={self.application_name}"

    def create(self) -> None:
        """Create and migrate the schema."""
        db = Database(PG_URL, schema=self.schema)
        db.migrate()
        db.dispose()

    def drop(self, keep: bool = False) -> None:
        """Drop the schema and everything in it (unless ``keep``: for a look afterwards)."""
        if keep:
            print(f"schema kept: {self.schema}")
            return
        admin = Database(PG_URL)
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
        admin.dispose()


def write_config(root: Path, index: int, pki: Pki, dovecot: DovecotServer, smtp_port: int,
                 database: LoadSchema) -> Path:
    """The configuration of daemon ``index``: IMAP in, SMTP out, jobs other than the outbox
    off (the run measures mail, not the monthly rounds), short retries."""
    certificates = {"client_cert": str(pki.client_cert), "client_key": str(pki.client_key),
                    "ca_file": str(pki.ca_cert)}
    sections = merged(minimal_sections({"url": database.bot_url, "schema": database.schema}), {
        "identity": {"address": BOT, "nil": "NIL-LOAD"},
        "inbound": {"transport": "imap", "host": dovecot.host, "port": dovecot.imaps_port,
                    "tls": "implicit", **certificates,
                    "state_file": str(root / f"imap-state-{index}.json")},
        "outbound": {"transport": "smtp", "host": "127.0.0.1", "port": smtp_port,
                     "tls": "implicit", **certificates, "secure": True,
                     "timeout_seconds": 20.0, "retry_base_seconds": 1.0,
                     "retry_max_seconds": 8.0, "max_attempts": 30},
        "limits": {"replies_per_sender_per_hour": 1_000_000,
                   "replies_per_partner_per_hour": 1_000_000},
        "jobs": {"schedules": dict.fromkeys(JOBS_OFF, "off")},
        "logging": {"level": "WARNING", "file": str(root / f"daemon-{index}.log")}})
    sections["inbound"].pop("path")
    sections["outbound"].pop("path")
    path = root / f"mailbot-{index}.toml"
    path.write_text(render_toml(sections), encoding="utf-8")
    return path


def last_working_morning(now: dt.datetime) -> dt.datetime:
    """10:00 in Paris on the latest weekday before ``now``: inside the recontact window."""
    day = now.astimezone(PARIS).date()
    while True:
        moment = dt.datetime.combine(day, dt.time(10, 0), tzinfo=PARIS)
        if day.weekday() < 5 and moment <= now:
            return moment
        day -= dt.timedelta(days=1)


@dataclass(frozen=True)
class Asked:
    """One mail the bot sent before the run that someone may answer."""

    kind: str          # "recontact" (a patient) or "proposal" (a GP)
    recipient: str
    message_id: str
    token: str         # e.g. "CPTS-R-ABCD…"


def seed(config: Path, patients: int, proposals: int) -> list[Asked]:
    """Register ``proposals`` entries proposed to GPs, then ``patients`` entries asked by a
    recontact round, in-process through the real jobs; return what was asked (the mails
    themselves wait in the outbox: the daemons send them)."""
    app = App.from_config(load_config(config))
    try:
        at = last_working_morning(app.clock.now())
        gps = max(1, (proposals + 19) // 20)
        with app.db.transaction() as session:
            for n in range(gps):
                add_gp(session, n, now=at, capacity_per_month=1000, max_open_proposals=20)
            for n in range(proposals):
                add_entry(session, n, received=at - dt.timedelta(days=90, minutes=n), now=at)
        if proposals:
            run_job(app, "proposals", at=at)
        with app.db.transaction() as session:
            for n in range(proposals, proposals + patients):
                add_entry(session, n, received=at - dt.timedelta(days=60, minutes=n), now=at)
        if patients:
            run_job(app, "recontact", at=at)
        return asked(app.db)
    finally:
        app.db.dispose()


def asked(db: Database) -> list[Asked]:
    """The questions and proposals waiting in the outbox, with their tokens."""
    with db.sessions() as session:
        rows = session.execute(
            select(OutboxMessage.kind, OutboxMessage.recipient, OutboxMessage.message_id,
                   Token.kind, Token.code)
            .join(Token, Token.outbox_message_id == OutboxMessage.message_id)
            .where(OutboxMessage.kind.in_(("recontact", "proposal")))
            .order_by(OutboxMessage.id)).all()
    return [Asked(kind, recipient or "", message_id, f"CPTS-{token_kind}-{code}")
            for kind, recipient, message_id, token_kind, code in rows]


def cleanup_all(steps: list[Callable[[], Any]]) -> None:
    """Run every clean-up step, last registered first, whatever fails."""
    for step in reversed(steps):
        try:
            step()
        except Exception as error:  # a clean-up must not hide the run's own outcome
            print(f"clean-up step failed: {type(error).__name__}: {error}")
