"""PostgreSQL advisory locks held in this database, as ``pg_locks`` shows them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, text

_LOCKS = text("""
    SELECT l.classid::bigint AS high, l.objid::bigint AS low, l.objsubid, a.application_name,
           a.pid, a.backend_start
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.database = (
        SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY a.backend_start, a.pid
""")


@dataclass(frozen=True)
class HeldLock:
    """One advisory lock granted: its key, and the connection holding it."""

    key: int
    application: str | None  # the holder's application_name
    backend_pid: int
    since: dt.datetime | None  # when the holder's connection started


def key_of(high: int, low: int, sub: int) -> int:
    """The bigint given to ``pg_advisory_lock`` (``objsubid`` 1: split in two unsigned
    32-bit halves in ``pg_locks``); a two-integer lock (``objsubid`` 2) is shown as
    ``-k - 1`` of its halves joined, never taken for a job's (those are positive)."""
    key = (int(high) << 32) | int(low)
    if int(sub) == 1:
        return key - (1 << 64) if key >= 1 << 63 else key
    return -key - 1


def held_locks(connection: Connection) -> list[HeldLock]:
    """Every advisory lock granted in the current database, oldest holder first."""
    return [HeldLock(key_of(high, low, sub), application, pid, since)
            for high, low, sub, application, pid, since in connection.execute(_LOCKS)]
