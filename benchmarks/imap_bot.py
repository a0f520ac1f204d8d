"""The bot's side of ``benchmarks/imap_smtp.py``: configurations, the ingest over IMAP and
over Maildir, and the IMAP stage alone (fetch, raw bytes committed, MOVE)."""

from __future__ import annotations

import cProfile
import os
from pathlib import Path
from typing import Any

from mailbot.app import App
from mailbot.config import ImapInboundConfig
from mailbot.config.minimal import merged, minimal_sections, render_toml
from mailbot.daemon.loop import INBOUND_PASS
from mailbot.inbound.pipeline import BATCH, Pipeline
from mailbot.transports.base import set_aside_all
from mailbot.transports.factory import inbound_transport
from mailbot.transports.imap import ImapInbound
from store.models import OutboxMessage, OutboxState
from tests.servers.dovecot import DovecotServer
from tests.servers.pki import Pki

BOT = "liste-attente@cpts-exemple.mssante.fr"


def write_config(root: Path, pki: Pki, dovecot: DovecotServer, smtp_port: int, database: str, *,
                 folder: str = "INBOX", processed: str = "Traites") -> Path:
    """The bot's configuration for this run."""
    path = root / f"mailbot-{folder}.toml"
    certificates = {"client_cert": str(pki.client_cert), "client_key": str(pki.client_key),
                    "ca_file": str(pki.ca_cert)}
    sections = merged(minimal_sections({"url": database}), {
        "identity": {"address": BOT, "nil": "NIL-BENCH"},
        "inbound": {"transport": "imap", "host": "127.0.0.1", "port": dovecot.imaps_port,
                    "tls": "implicit", **certificates, "state_file": f"{root}/imap-state.json",
                    "folder": folder, "processed_folder": processed},
        "outbound": {"transport": "smtp", "host": "127.0.0.1", "port": smtp_port,
                     "tls": "implicit", **certificates, "secure": True},
        "limits": {"replies_per_sender_per_hour": 1000000,
                   "replies_per_partner_per_hour": 1000000},
        "logging": {"level": "WARNING"}})
    sections["inbound"].pop("path")
    sections["outbound"].pop("path")
    path.write_text(render_toml(sections), encoding="utf-8")
    return path


async def bot_ingest(app: App, profile: cProfile.Profile | None = None) -> dict[str, int]:
    """Everything in the inbox (IMAP or Maildir) through the pipeline, by the daemon's
    passes."""
    inbound = inbound_transport(app.config.inbound)
    pipeline = Pipeline(app, inbound)
    states: dict[str, int] = {}
    if profile is not None:
        profile.enable()
    await inbound.open()
    try:
        while True:
            report = await pipeline.ingest(INBOUND_PASS)
            for state, n in report.states.items():
                states[state] = states.get(state, 0) + n
            if report.fetched == 0:
                break
    finally:
        await inbound.close()
        if profile is not None:
            profile.disable()
    return states


async def imap_stage(app: App) -> int:
    """The bot's IMAP stage alone, as the pipeline drives it: passes of ``INBOUND_PASS``
    mails fetched, their raw bytes committed (``Pipeline.store``: one transaction per
    batch), then set aside together (one STORE, one MOVE). Nothing is processed."""
    assert isinstance(app.config.inbound, ImapInboundConfig)
    inbound = ImapInbound(app.config.inbound, None)
    pipeline = Pipeline(app, inbound)
    done = 0
    await inbound.open()
    try:
        while mails := await inbound.fetch(INBOUND_PASS):
            for start in range(0, len(mails), BATCH):
                batch = mails[start:start + BATCH]
                pipeline.store(batch)
                pipeline.parsed.clear()  # kept for processing, which this stage leaves out
                await set_aside_all(inbound, [mail.key for mail in batch])
                done += len(batch)
    finally:
        await inbound.close()
    return done


def fresh_database(database: str, root: Path, name: str) -> tuple[str, Any]:
    """Another empty database of the same kind as ``database``: a SQLite file in ``root``,
    or a new PostgreSQL database on the same server; returns (url, drop function)."""
    if "postgresql" not in database:
        return f"sqlite:///{root / (name + '.db')}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(database)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    db_name = f"bench_{name}_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}"'))
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=db_name).render_as_string(hide_password=False), drop


def write_maildir_config(root: Path, database: str) -> Path:
    """The same bot with the embedded default inbound: a Maildir under ``root``."""
    path = root / "mailbot-maildir.toml"
    sections = merged(minimal_sections({"url": database}), {
        "identity": {"address": BOT, "nil": "NIL-BENCH"},
        "inbound": {"transport": "maildir", "path": str(root / "maildir-inbox")},
        "outbound": {"transport": "maildir", "path": str(root / "maildir-outbox")},
        "limits": {"replies_per_sender_per_hour": 1000000,
                   "replies_per_partner_per_hour": 1000000},
        "logging": {"level": "WARNING"}})
    path.write_text(render_toml(sections), encoding="utf-8")
    return path


def pending_mails(app: App) -> list[tuple[str, list[str], bytes]]:
    """The acknowledgements waiting in the outbox."""
    from sqlalchemy import select

    with app.db.sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.state == OutboxState.PENDING).order_by(OutboxMessage.id))
        return [(row.sender, list(row.recipients), row.raw) for row in rows]
