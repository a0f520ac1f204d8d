"""Shared fixtures: a database per backend (SQLite file, PostgreSQL schema) and a bot.

Every test that takes ``bot`` or ``database`` runs twice: on a real SQLite
file and on the real PostgreSQL at 127.0.0.1:5432 (database ``test``), in a
schema of its own that is dropped at the end of the run. Set
``MAILBOT_TEST_BACKENDS=sqlite`` to run one backend while developing.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from store.db import Database
from store.models import Base
from tests.helpers import Bot

pytest_plugins = ([*(["tests.servers.conftest_plugin"]
                    if (Path(__file__).parent / "servers" / "conftest_plugin.py").exists() else []),
                   "tests.tenants_support"])  # the fixtures ``made`` and ``tenants``

PG_URL = os.environ.get("MAILBOT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("MAILBOT_TEST_BACKENDS", "sqlite,postgres").split(",") if b]


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A PostgreSQL schema of this test run, migrated once, dropped at the end."""
    schema = f"mailbot_test_{os.getpid()}_{secrets.token_hex(3)}"
    db = Database(PG_URL, schema=schema)
    db.migrate()
    db.dispose()
    yield schema
    admin = Database(PG_URL)
    with admin.engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run: ``sqlite`` or ``postgres``."""
    return str(request.param)


@pytest.fixture
def database_section(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """The ``[database]`` section for a fresh, empty, migrated database."""
    if backend == "sqlite":
        return {"url": f"sqlite:///{tmp_path / 'var' / 'mailbot.db'}"}
    schema = request.getfixturevalue("pg_schema")
    db = Database(PG_URL, schema=schema)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.dispose()
    return {"url": PG_URL, "schema": schema}


@pytest.fixture
def database(database_section: dict[str, str]) -> Iterator[Database]:
    """A migrated, empty database on the current backend."""
    db = Database(database_section["url"], schema=database_section.get("schema"))
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def bot(tmp_path: Path, database_section: dict[str, str]) -> Iterator[Bot]:
    """A configured bot on Maildir folders in ``tmp_path`` and the current backend."""
    instance = Bot.create(tmp_path, database_section)
    yield instance
    instance.close()
