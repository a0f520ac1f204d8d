"""Models of the processes sharing one database (issue 14, several daemons).

* :class:`Worker` — one live ``mailbot`` process: its identity, its heartbeat and
  until when its claims hold (the registry ``mailbot doctor`` shows).
* :class:`JobOccurrence` — one scheduled fire time of a job, recorded once across all
  processes, so that two daemons whose schedulers fire seconds apart run it once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base


class Worker(Base):
    """A running process: ``host:pid:start-token`` (also its PostgreSQL ``application_name``)."""

    __tablename__ = "worker"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))  # "daemon", "once"
    started_at: Mapped[dt.datetime]
    heartbeat_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)  # heartbeat + its lease


class JobOccurrence(Base):
    """One scheduled run of a job: claimed by one worker, then finished (or taken over)."""

    __tablename__ = "job_occurrence"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    fire_at: Mapped[dt.datetime] = mapped_column(primary_key=True)  # the schedule's time, UTC
    worker: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(20))  # "running", "ok", "erreur"
    runs: Mapped[int] = mapped_column(Integer, default=1)  # > 1: taken over after a death
