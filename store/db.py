"""Engines, sessions and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from store.migrations import HEAD

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseError(Exception):
    """The database cannot be reached, created or migrated."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """One database: engine, session factory and schema management.

    ``schema`` (PostgreSQL only) puts every table in that schema, which lets
    several tenants — or test runs — share one server without touching each
    other's data.
    """

    def __init__(self, url: str, *, schema: str | None = None, echo: bool = False,
                 application_name: str | None = None) -> None:
        self.url = url
        self.schema = schema
        connect_args: dict[str, Any] = {}
        if url.startswith("sqlite"):
            file = url.split("///", 1)[-1]
            if file and file != ":memory:":
                Path(file).parent.mkdir(parents=True, exist_ok=True)
            connect_args["timeout"] = 30
        else:
            if schema:
                connect_args["options"] = f"-csearch_path={schema}"
            if application_name:  # who holds what, in pg_stat_activity (mailbot doctor)
                connect_args["application_name"] = application_name[:63]
        try:
            self.engine: Engine = create_engine(url, echo=echo, connect_args=connect_args,
                                                future=True, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as error:
            raise DatabaseError(f"URL de base de données inutilisable : {error}") from None
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, future=True)

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite backend."""
        return self.engine.dialect.name == "sqlite"

    @property
    def is_postgres(self) -> bool:
        """True for PostgreSQL."""
        return self.engine.dialect.name == "postgresql"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: commit on success, roll back on any exception."""
        with self.sessions() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def autocommit(self, *, wait_for_disk: bool = True) -> Iterator[Connection]:
        """One connection where each statement is a transaction of its own, committed at once:
        one round trip per statement, for many small independent writes.

        ``wait_for_disk=False`` (PostgreSQL: ``synchronous_commit = off`` on this connection
        until it goes back to the pool): a commit returns without waiting for the disk. What
        it wrote survives the bot dying at once — the database server has it — and is lost
        only if the database server itself crashes in the next fraction of a second: the
        guarantee SQLite gives in WAL mode with ``synchronous = NORMAL``.
        """
        relaxed = not wait_for_disk and self.is_postgres
        with self.engine.connect() as pooled:
            connection = pooled.execution_options(isolation_level="AUTOCOMMIT")
            if relaxed:
                connection.execute(text("SET synchronous_commit TO off"))
            try:
                yield connection
            finally:
                if relaxed and not connection.invalidated:
                    with contextlib.suppress(SQLAlchemyError):  # broken: the pool drops it
                        connection.execute(text("RESET synchronous_commit"))

    def _alembic_config(self) -> AlembicConfig:
        from alembic.config import Config as AlembicConfig  # alembic is slow to import

        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return cfg

    def migrate(self) -> tuple[str | None, str]:
        """Create or upgrade the schema to the newest revision; return (before, after)."""
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        cfg = self._alembic_config()
        try:
            with self.engine.begin() as connection:
                if self.schema and self.is_postgres:
                    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                before = MigrationContext.configure(connection).get_current_revision()
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, "head")
                after = MigrationContext.configure(connection).get_current_revision()
        except OperationalError as error:
            raise DatabaseError(f"base de données injoignable : {error.orig}") from None
        return before, after or "head"

    def _stored_revision(self) -> str | None:
        """The revision in ``alembic_version``; ``None`` when it cannot be read."""
        try:
            with self.engine.connect() as connection:
                return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:  # no table yet, or unreachable: Alembic will say which
            return None

    def current_revision(self) -> str | None:
        """The schema revision in the database (``None`` when not created)."""
        from alembic.runtime.migration import MigrationContext

        try:
            with self.engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except OperationalError as error:
            raise DatabaseError(f"base de données injoignable : {error.orig}") from None

    def head_revision(self) -> str | None:
        """The newest revision shipped with this version."""
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def check_current(self) -> None:
        """Raise :class:`DatabaseError` unless the schema is at the newest revision."""
        if self._stored_revision() == HEAD:  # the usual case, read without Alembic
            return
        current, head = self.current_revision(), self.head_revision()
        if current is None:
            raise DatabaseError("la base n'est pas initialisée : lancez « mailbot init »")
        if current != head:
            raise DatabaseError(
                f"la base est à la révision {current}, le logiciel attend {head} : "
                "lancez « mailbot init » pour la mettre à jour"
            )

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
