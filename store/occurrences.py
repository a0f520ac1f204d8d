"""Occurrences of scheduled jobs: each fire time of a job is run once across all processes.

The caller holds the job's advisory lock on PostgreSQL (``mailbot.jobs.schedule``), so
nobody else begins or finishes the same job meanwhile; on SQLite only one process runs.
A row still ``running`` therefore means its worker died mid-run: it is taken over.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from store.models_workers import JobOccurrence, Worker

RUNNING = "running"
KEPT = dt.timedelta(days=7)  # finished occurrences older than this are forgotten


def begin(session: Session, name: str, fire_at: dt.datetime, worker: str,
          now: dt.datetime) -> bool:
    """Claim the occurrence ``(name, fire_at)`` for ``worker``; False when it was already
    done (``ok`` or ``erreur``: once is once, an error is alerted, not retried). An
    occurrence left ``running`` by a dead worker is taken over (``runs`` counts it)."""
    row = session.get(JobOccurrence, (name, fire_at))
    if row is None:
        session.add(JobOccurrence(name=name, fire_at=fire_at, worker=worker, started_at=now,
                                  status=RUNNING, runs=1))
        return True
    if row.status != RUNNING:
        return False
    row.worker, row.started_at, row.runs = worker, now, (row.runs or 0) + 1
    return True


def finish(session: Session, name: str, fire_at: dt.datetime, status: str,
           now: dt.datetime) -> None:
    """Record how the occurrence ended (``ok`` or ``erreur``)."""
    row = session.get(JobOccurrence, (name, fire_at))
    if row is not None:
        row.status, row.finished_at = status, now
    session.execute(delete(JobOccurrence).where(JobOccurrence.name == name,
                                                JobOccurrence.fire_at < now - KEPT,
                                                JobOccurrence.status != RUNNING))


def abandoned(session: Session, now: dt.datetime, since: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """Occurrences fired after ``since``, still ``running``, whose worker is no longer live
    (its lease passed, or it has no row): (name, fire time), oldest first."""
    alive = exists().where(Worker.id == JobOccurrence.worker, Worker.expires_at >= now)
    return [(name, fire_at) for name, fire_at in session.execute(
        select(JobOccurrence.name, JobOccurrence.fire_at)
        .where(JobOccurrence.status == RUNNING, JobOccurrence.fire_at >= since, ~alive)
        .order_by(JobOccurrence.fire_at))]


def running(session: Session) -> list[JobOccurrence]:
    """Occurrences being run (or abandoned), for ``mailbot doctor``."""
    return list(session.scalars(select(JobOccurrence).where(JobOccurrence.status == RUNNING)
                                .order_by(JobOccurrence.fire_at)))
