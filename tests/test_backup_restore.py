"""Backups as docs/deployment.md tells them: ``pg_dump``, restore into a new database,
then ``mailbot audit verify`` and ``mailbot stats`` give the same figures.

Real PostgreSQL, real ``pg_dump``/``pg_restore`` (Debian's postgresql-client), the real CLI.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mailbot.config.minimal import merged, render_toml
from mailbot.config.minimal import minimal_sections as base_sections
from tests.conftest import PG_URL
from tests.helpers import Bot

AT = "2030-01-15T12:00"


def _libpq(url: str) -> list[str]:
    """Connection options of pg_dump/pg_restore for a SQLAlchemy URL."""
    parsed = make_url(url)
    return ["-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
            "-U", parsed.username or "postgres"]


def _admin(sql: str) -> None:
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Bot]:
    """A bot on a schema of its own in the test database, with a few referrals processed."""
    schema = f"mailbot_backup_{secrets.token_hex(4)}"
    (tmp_path / "source").mkdir()
    bot = Bot.create(tmp_path / "source", {"url": PG_URL, "schema": schema})
    try:
        yield bot
    finally:
        bot.close()
        _admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _cli(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The real command line on the configuration in ``root``."""
    bot = Bot.__new__(Bot)  # only root and config_path are used by Bot.cli
    bot.root = root
    return bot.cli(*args, check=check)


def _figures(root: Path) -> tuple[str, dict[str, object], list[object]]:
    """What an administrator compares: audit verdict, statistics, the list itself."""
    audit = _cli(root, "audit", "verify")
    stats = _cli(root, "stats", "--format", "json", "--at", AT)
    out = root / "export.json"
    _cli(root, "entries", "export", "--format", "json", "--output", str(out))
    return audit.stdout, json.loads(stats.stdout), json.loads(out.read_text(encoding="utf-8"))


def test_dump_restore_gives_the_same_audit_and_statistics(source: Bot, tmp_path: Path) -> None:
    for name in ("01-dac-text-form.eml", "02-hospital-incomplete.eml"):
        source.drop_example(name)
    report = source.run_once()
    assert report.fetched == 2
    schema = source.sections["database"]["schema"]
    before = _figures(source.root)
    assert before[2], "the list is not empty"
    assert "intacte" in before[0]

    dump = tmp_path / "mailbot.dump"
    subprocess.run([shutil.which("pg_dump") or "pg_dump", *_libpq(PG_URL), "-d",
                    make_url(PG_URL).database or "test", "--schema", schema, "-Fc", "-f",
                    str(dump)], check=True, capture_output=True)
    restored_db = f"mailbot_restore_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{restored_db}"')
    try:
        subprocess.run([shutil.which("pg_restore") or "pg_restore", *_libpq(PG_URL), "-d",
                        restored_db, "--no-owner", str(dump)], check=True, capture_output=True)
        restored_url = make_url(PG_URL).set(database=restored_db).render_as_string(
            hide_password=False)
        root = tmp_path / "restored"
        root.mkdir()
        sections = merged(base_sections({"url": restored_url, "schema": schema}), None)
        (root / "mailbot.toml").write_text(render_toml(sections), encoding="utf-8")
        after = _figures(root)
        assert after[0] == before[0]
        assert after[1] == before[1]
        assert after[2] == before[2]
        # the restored database is a working one: the checks of the chain still bite
        engine = create_engine(restored_url)
        with engine.begin() as connection:
            connection.execute(text(f'UPDATE "{schema}".audit_log SET actor = actor || \'x\' '
                                    f'WHERE id = (SELECT min(id) FROM "{schema}".audit_log)'))
        engine.dispose()
        assert _cli(root, "audit", "verify", check=False).returncode == 1
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{restored_db}" WITH (FORCE)')
