"""The live worker registry: who is running, since when, and until when its claims hold.

Each ``mailbot`` process has an identity, ``host:pid:start-token`` (:func:`identity`),
also its PostgreSQL ``application_name``. While it runs it keeps a :class:`Worker` row
whose ``expires_at`` (heartbeat + lease) it pushes forward every third of the lease.
Claims carry that identity: inbound mails (``claimed_by`` and ``lease_until``), sends in
progress (``attempt_started_by``), job occurrences (``worker``). A process that stops
cleanly removes its row and hands back its inbound claims at once; one killed leaves
both, and its claims are taken over once its lease has passed.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.orm import Session

from store.models import InboundMessage, InboundState, OutboxMessage, OutboxState
from store.models_workers import Worker

_IDENTITY: tuple[int, str] | None = None  # (pid, identity) — a forked child makes its own
FORGOTTEN_AFTER = dt.timedelta(days=1)  # a dead worker's row is kept this long (doctor)


def _start_ticks(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, ``/proc``); None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def _host() -> str:
    return socket.gethostname()[:40] or "localhost"


def identity() -> str:
    """This process's identity, ``host:pid:start-token``: the start token is the process's
    start time (``/proc``; random where there is none), so that a pid used again by
    another process is never taken for this one."""
    global _IDENTITY
    pid = os.getpid()
    if _IDENTITY is None or _IDENTITY[0] != pid:
        _IDENTITY = (pid, f"{_host()}:{pid}:{_start_ticks(pid) or secrets.token_hex(4)}")
    return _IDENTITY[1]


def gone_here(worker: str) -> bool:
    """True when ``worker`` ran on this host and its process is gone (no such pid, or a pid
    started since by another process): it is dead for certain, without waiting for its
    lease. False when it may be alive, or ran elsewhere (its lease then decides). Host
    names must differ between the machines sharing one database."""
    parts = worker.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != _host() or not parts[1].isdigit():
        return False
    ticks = _start_ticks(int(parts[1]))
    if ticks is None:  # no such process, if this system has a /proc at all
        return os.path.isdir("/proc/self") and not os.path.exists(f"/proc/{parts[1]}")
    return ticks != parts[2]


def reap(connection: Connection, me: str, now: dt.datetime) -> list[str]:
    """End the leases of the workers of this host whose process is gone (:func:`gone_here`):
    their rows expire and the inbound mails they claimed can be taken over at once (a
    restart after a SIGKILL need not wait for the lease). Return their identities."""
    rows = connection.execute(select(Worker.id).where(Worker.host == _host(), Worker.id != me,
                                                      Worker.expires_at >= now)).scalars()
    dead = [worker for worker in rows if gone_here(worker)]
    if dead:
        ended = now - dt.timedelta(milliseconds=1)
        connection.execute(update(Worker).where(Worker.id.in_(dead)).values(expires_at=ended))
        connection.execute(update(InboundMessage)
                           .where(InboundMessage.claimed_by.in_(dead),
                                  InboundMessage.state == InboundState.RECEIVED)
                           .values(lease_until=ended))
    return dead


def register(connection: Connection, worker: str, *, role: str, now: dt.datetime,
             lease: dt.timedelta) -> None:
    """Add (or renew) this worker's row, and forget workers dead for a day."""
    connection.execute(delete(Worker).where(Worker.expires_at < now - FORGOTTEN_AFTER))
    connection.execute(delete(Worker).where(Worker.id == worker))
    parts = worker.rsplit(":", 2)
    host, pid = (parts[0], parts[1]) if len(parts) == 3 else (worker, "0")
    connection.execute(insert(Worker).values(
        id=worker, host=host[:255], pid=int(pid) if pid.isdigit() else 0, role=role, started_at=now,
        heartbeat_at=now, expires_at=now + lease))


def beat(connection: Connection, worker: str, *, now: dt.datetime, lease: dt.timedelta,
         role: str = "daemon") -> None:
    """Renew the heartbeat (and the row itself if another process forgot it)."""
    done = connection.execute(update(Worker).where(Worker.id == worker)
                              .values(heartbeat_at=now, expires_at=now + lease))
    if done.rowcount == 0:
        register(connection, worker, role=role, now=now, lease=lease)


def unregister(connection: Connection, worker: str) -> int:
    """Remove the worker's row and hand back the inbound mails it still claimed (a clean
    stop: nobody needs to wait for its lease); return how many were handed back."""
    released = connection.execute(
        update(InboundMessage)
        .where(InboundMessage.claimed_by == worker,
               InboundMessage.state == InboundState.RECEIVED)
        .values(claimed_by=None, lease_until=None)).rowcount
    connection.execute(delete(Worker).where(Worker.id == worker))
    return int(released or 0)


def live(session: Session, now: dt.datetime) -> list[Worker]:
    """Workers whose lease has not passed, oldest first."""
    return list(session.scalars(select(Worker).where(Worker.expires_at >= now)
                                .order_by(Worker.started_at, Worker.id)))


@dataclass(frozen=True)
class Holding:
    """What one worker holds: inbound mails claimed (with the latest lease), sends started."""

    worker: str
    inbound: int
    inbound_lease_until: dt.datetime | None
    sends: int
    sends_since: dt.datetime | None


def holdings(session: Session) -> list[Holding]:
    """Claims per holder: inbound mails still ``received`` under a lease, and sends started
    but not recorded (each worker, dead or alive, that holds anything)."""
    claims = {holder or "?": (int(n), until) for holder, n, until in session.execute(
        select(InboundMessage.claimed_by, func.count(), func.max(InboundMessage.lease_until))
        .where(InboundMessage.state == InboundState.RECEIVED,
               InboundMessage.claimed_by.is_not(None))
        .group_by(InboundMessage.claimed_by))}
    sends = {holder or "?": (int(n), since) for holder, n, since in session.execute(
        select(OutboxMessage.attempt_started_by, func.count(),
               func.min(OutboxMessage.attempt_started_at))
        .where(OutboxMessage.state == OutboxState.PENDING,
               OutboxMessage.attempt_started_at.is_not(None))
        .group_by(OutboxMessage.attempt_started_by))}
    out = []
    for holder in sorted(set(claims) | set(sends)):
        n, until = claims.get(holder, (0, None))
        m, since = sends.get(holder, (0, None))
        out.append(Holding(holder, n, until, m, since))
    return out
