"""The inbound leader: the one process that reads a mailbox (fetch, IDLE, set aside).

Several ``mailbot run`` on one PostgreSQL schema and one mailbox would all
fetch the same mails. The leader holds a session-level advisory lock, keyed by
the schema and the mailbox (:mod:`mailbot.inbound.mailbox`), on a connection of
its own kept for as long as it leads. The others (followers) never open the
mailbox: they process the mails the leader stored, and try to take the lock
again every ``[inbound] leader_retry_seconds``. When the leader dies, even by
SIGKILL, PostgreSQL closes its connection and frees the lock, and a follower
takes over within that delay. A leader whose lock connection fails (database
restarted, ``pg_terminate_backend``) stops reading the mailbox at its next pass.

On SQLite the daemon is alone (:mod:`mailbot.daemon.single`): always the leader.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from mailbot.app import App
from mailbot.inbound.mailbox import lock_key, mailbox_name
from store.locks import held_locks

log = logging.getLogger(__name__)


APPLICATION = "mailbot inbound leader "  # the lock connection's application_name, then pid@host


def _key_of(app: App) -> int:
    """The leader lock of ``app``'s mailbox in its schema."""
    return lock_key("inbound-leader", app.db.schema, mailbox_name(app.config.inbound))


def holder(app: App) -> tuple[str, dt.datetime | None] | None:
    """Who leads ``app``'s mailbox (``"pid@host"``, since when), or None: nobody (PostgreSQL)."""
    key = _key_of(app)
    with app.db.engine.connect() as connection:
        lock = next((lock for lock in held_locks(connection) if lock.key == key), None)
    if lock is None:
        return None
    name = lock.application or ""
    return (name.removeprefix(APPLICATION) if name.startswith(APPLICATION) else "?"), lock.since


class InboundLeader:
    """Takes, checks and gives up the leader role of the configured mailbox."""

    def __init__(self) -> None:
        self._connection: Connection | None = None
        self._key: int | None = None
        self._alone = False  # SQLite: no lock, always the leader
        self._following = False  # the last attempt found the role taken (logged once)

    @property
    def held(self) -> bool:
        """True while this process leads (SQLite: once :meth:`acquire` was called)."""
        return self._alone or self._connection is not None

    def acquire(self, app: App) -> bool:
        """True when this process leads ``app``'s mailbox (taking the role if it is free).

        A database error is raised (the caller backs off and retries).
        """
        self._alone = not app.db.is_postgres
        if self._alone:
            return True
        key = _key_of(app)
        if self._connection is not None:
            if key == self._key and self.check():
                return True
            self.release()  # another mailbox after a reload, or the connection was lost
        connection = app.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                          {"k": key}).scalar())
        except BaseException:
            _drop(connection)
            raise
        if not got:
            connection.close()  # holds no lock: back to the pool
            if not self._following:
                log.info("inbound leader is another process: processing stored mails only")
                self._following = True
            return False
        self._connection, self._key, self._following = connection, key, False
        with contextlib.suppress(SQLAlchemyError):  # for holder(): who leads, seen from the server
            connection.execute(text("SELECT set_config('application_name', :n, false)"),
                               {"n": f"{APPLICATION}{os.getpid()}@{socket.gethostname()}"[:63]})
        log.info("inbound leader acquired")
        return True

    def check(self) -> bool:
        """True while this process leads: the lock's connection still answers. When it
        does not, the role is dropped (and logged)."""
        if self._alone:
            return True
        connection = self._connection
        if connection is None:
            return False
        try:
            connection.execute(text("SELECT 1"))
        except SQLAlchemyError as error:
            log.warning("inbound leader lost (database connection: %s)", type(error).__name__)
            self._connection = None
            _drop(connection)
            return False
        return True

    def release(self) -> None:
        """Give the role up (a stop, a reload to another mailbox); safe to call twice."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with contextlib.suppress(SQLAlchemyError):  # closing the connection frees it anyway
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
        _drop(connection)
        log.info("inbound leader released")


def _drop(connection: Connection) -> None:
    """Close ``connection`` for good (never back to the pool, where it could keep the lock)."""
    with contextlib.suppress(SQLAlchemyError):
        connection.invalidate()
    with contextlib.suppress(SQLAlchemyError):
        connection.close()
