"""Two tenants on one PostgreSQL database (one schema each), for the tenant tests (no test here).

Tenant ``a`` and tenant ``b`` each live in a folder of their own (Maildir inbox and
outbox) and are described by ``<tenants>/a.toml`` and ``<tenants>/b.toml``. Both
register the same partner (the DAC), the same coordinator and the same GP
(``rpps(1)``, ``gp_email(1)``); ``b`` alone has GP 2, a partner of its own, a blocked
sender and an unprocessed referral in its inbox. Patients are named ``TENANTA`` / ``TENANTB``,
so any leak of ``b`` into ``a`` shows in ``a``'s output.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import io
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from mailbot.cli import main
from mailbot.config.minimal import PARTNERS, render_toml
from store import blocked
from store.db import Database
from store.models import Base
from tests.conftest import PG_URL
from tests.helpers import Bot
from tests.test_intake_e2e import COMPLETE, mail
from tests.test_matching_support import T0, add_entry, add_gp

NAMES = ("a", "b")
BLOCKED = "faussaire@exemple.fr"
PARTNER_B = "saisine@chu-b.mssante.fr"  # a partner of tenant b only


@contextlib.contextmanager
def schemas() -> Iterator[dict[str, str]]:
    """Two migrated PostgreSQL schemas of this run, dropped at the end."""
    tag = f"{os.getpid()}_{secrets.token_hex(3)}"
    made = {name: f"mailbot_tenant_{name}_{tag}" for name in NAMES}
    for schema in made.values():
        db = Database(PG_URL, schema=schema)
        db.migrate()
        db.dispose()
    try:
        yield made
    finally:
        admin = Database(PG_URL)
        with admin.engine.begin() as connection:
            for schema in made.values():
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def empty(schema: str) -> None:
    """Truncate every table of ``schema``."""
    db = Database(PG_URL, schema=schema)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.dispose()


def sections_of(root: Path, name: str, schema: str) -> dict[str, dict[str, object]]:
    """The configuration of tenant ``name``: its address, schema and folders (absolute paths)."""
    var = root / name / "var"
    sections: dict[str, dict[str, object]] = {
        "identity": {"address": f"liste-attente@cpts-{name}.mssante.fr", "name": f"CPTS {name.upper()}"},
        "inbound": {"transport": "maildir", "path": str(var / "inbox")},
        "outbound": {"transport": "maildir", "path": str(var / "outbox")},
    }
    if name == "b":
        sections["senders"] = {"partners": [*PARTNERS, PARTNER_B]}
    return sections


@dataclass
class Tenants:
    """Tenants ``a`` and ``b`` and their shared tenants folder."""

    folder: Path
    bots: dict[str, Bot]

    @property
    def a(self) -> Bot:
        """Tenant ``a``."""
        return self.bots["a"]

    @property
    def b(self) -> Bot:
        """Tenant ``b``."""
        return self.bots["b"]

    def cli(self, tenant: str, *args: str) -> tuple[int, str]:
        """``mailbot --tenants-dir F --tenant NAME ARGS`` in-process: exit code, stdout + stderr."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["--tenants-dir", str(self.folder), "--tenant", tenant, *args])
            except SystemExit as stop:  # argparse
                code = int(stop.code or 0)
        gc.collect()  # every command builds its own engine: let its connections go
        return code, out.getvalue() + err.getvalue()

    def close(self) -> None:
        """Release database connections."""
        for bot in self.bots.values():
            bot.close()


def build(root: Path, made: dict[str, str]) -> Tenants:
    """Both tenants, configured, with their data (see the module docstring)."""
    folder = root / "tenants"
    folder.mkdir()
    bots = {}
    for name in NAMES:
        (root / name).mkdir()
        bot = Bot.create(root / name, {"url": PG_URL, "schema": made[name]},
                         extra=sections_of(root, name, made[name]))
        (folder / f"{name}.toml").write_text(render_toml(bot.sections), encoding="utf-8")
        bots[name] = bot
    with bots["a"].app.db.transaction() as session:
        add_gp(session, 1)
        add_entry(session, 1, received=T0 - dt.timedelta(days=30), nom="TENANTA")
    with bots["b"].app.db.transaction() as session:
        add_gp(session, 1)
        add_gp(session, 2)
        add_entry(session, 2, received=T0 - dt.timedelta(days=40), nom="TENANTB")
        for _ in range(5):
            blocked.record_forged(session, BLOCKED, kind="test", now=T0, limit=3)
    bots["b"].drop(mail("coordination@dac16.mssante.fr", COMPLETE, message_id="pending-b@dac16.mssante.fr"))
    return Tenants(folder=folder, bots=bots)



@pytest.fixture(scope="module")
def made() -> Iterator[dict[str, str]]:
    """The two tenants' PostgreSQL schemas, made once per test module."""
    with schemas() as names:
        yield names


@pytest.fixture
def tenants(tmp_path: Path, made: dict[str, str]) -> Iterator[Tenants]:
    """Two tenants on emptied schemas, built afresh for each test."""
    for schema in made.values():
        empty(schema)
    instance = build(tmp_path, made)
    yield instance
    instance.close()

def ref_of(bot: Bot, nom: str) -> str:
    """The reference of the entry of patient ``nom``."""
    with bot.app.db.sessions() as session:
        return str(session.execute(text("SELECT ref FROM entry WHERE nom = :n"), {"n": nom}).scalar_one())


def fingerprint(bot: Bot) -> dict[str, str]:
    """Every table of the tenant's schema (a digest of its rows) and every file of its folders."""
    found: dict[str, str] = {}
    with bot.app.db.engine.connect() as connection:
        tables = connection.execute(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY 1")).scalars().all()
        assert len(tables) > 20, tables
        for table in tables:
            rows = connection.execute(text(
                f'SELECT md5(coalesce(string_agg(t::text, \'|\' ORDER BY t::text), \'\')) FROM "{table}" t'
            )).scalar_one()
            found[table] = str(rows)
    for path in sorted((bot.root / "var").rglob("*")):
        if path.is_file():
            found[str(path.relative_to(bot.root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
