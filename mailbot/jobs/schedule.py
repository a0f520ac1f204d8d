"""Schedules: validating ``[jobs]``, next run times, running a job and recording it."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import zlib
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import text

from mailbot.app import App
from mailbot.clock import Clock
from mailbot.errors import ConfigError, UsageError
from mailbot.jobs import Job, load_all
from store import occurrences
from store.models import JobRun

log = logging.getLogger(__name__)

OFF = "off"
GRACE = dt.timedelta(hours=1)  # as the daemon's misfire_grace_time: later, an occurrence is missed


def zone(app: App) -> ZoneInfo:
    """The time zone of the schedules."""
    try:
        return ZoneInfo(app.config.jobs.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("fuseau horaire inconnu", file=str(app.config.source),
                          key="jobs.timezone", expected="par exemple « Europe/Paris »") from None


def schedule_of(app: App, job: Job) -> str:
    """The job's cron expression (configured or default), or ``"off"``."""
    return app.config.jobs.schedules.get(job.name, job.default_schedule).strip()


_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekdays(field: str) -> str:
    """A cron day-of-week field with its numbers as names (``1-5`` → ``mon,tue,wed,thu,fri``).

    In cron 0 and 7 are Sunday, 1 Monday; APScheduler 3 numbers days from
    Monday = 0, so ``from_crontab("0 8 * * 1-5")`` would run Tuesday to Saturday.
    Items that are not plain numbers, ranges or steps are left for APScheduler to judge.
    """
    items = []
    for item in field.split(","):
        match = re.fullmatch(r"(\d)(?:-(\d))?(?:/(\d+))?", item.strip())
        if not match or int(match[1]) > 7 or (match[2] and int(match[2]) > 7):
            items.append(item)
            continue
        first = int(match[1])
        last = int(match[2]) if match[2] else (7 if match[3] else first)
        step = int(match[3]) if match[3] else 1
        if last < first or step < 1:
            items.append(item)
            continue
        items.extend(dict.fromkeys(_CRON_DAYS[day] for day in range(first, last + 1, step)))
    return ",".join(dict.fromkeys(items))


def trigger_of(app: App, job: Job) -> CronTrigger | None:
    """The APScheduler trigger of a job, ``None`` when it is off."""
    expression = schedule_of(app, job)
    if expression.lower() == OFF:
        return None
    fields = expression.split()
    if len(fields) == 5:
        fields[4] = _weekdays(fields[4])
    try:
        return CronTrigger.from_crontab(" ".join(fields), timezone=zone(app))
    except ValueError as error:
        raise ConfigError(f"expression cron invalide « {expression} » ({error})",
                          file=str(app.config.source), key=f"jobs.schedules.{job.name}",
                          expected="cinq champs : minute heure jour mois jour-de-semaine, "
                                   "ex. \"0 9 * * 1-5\", ou \"off\"") from None


def validate(app: App) -> None:
    """Raise :class:`ConfigError` for an unknown job name or a bad cron expression."""
    jobs = load_all()
    for name in app.config.jobs.schedules:
        if name not in jobs:
            raise ConfigError("tâche inconnue", file=str(app.config.source),
                              key=f"jobs.schedules.{name}",
                              expected="une de : " + ", ".join(sorted(jobs)))
    zone(app)
    for job in jobs.values():
        trigger_of(app, job)


def next_run(app: App, job: Job, after: dt.datetime) -> dt.datetime | None:
    """When the job will next run after ``after``."""
    trigger = trigger_of(app, job)
    if trigger is None:
        return None
    fire = trigger.get_next_fire_time(None, after.astimezone(zone(app)))
    return fire.astimezone(dt.UTC) if fire else None


def lock_key(name: str, schema: str | None = None) -> int:
    """The advisory lock of a job, per schema: tenants sharing one database never block each other."""
    return zlib.crc32(f"mailbot-job:{schema or ''}:{name}".encode())


@contextlib.contextmanager
def _job_lock(app: App, name: str) -> Iterator[bool]:
    """Hold the job's advisory lock on PostgreSQL; yield False when another instance has it."""
    if not app.db.is_postgres:
        yield True
        return
    with app.db.engine.connect() as connection:
        got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                      {"k": lock_key(name, app.db.schema)}).scalar())
        try:
            yield got
        finally:
            if got:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"),
                                   {"k": lock_key(name, app.db.schema)})
            connection.commit()


def occurrence_of(app: App, job: Job, now: dt.datetime) -> dt.datetime | None:
    """The scheduled fire time a run at ``now`` belongs to: the job's latest fire time at
    or before ``now``, within :data:`GRACE` (UTC); ``None`` when there is none."""
    trigger = trigger_of(app, job)
    if trigger is None:
        return None
    local = zone(app)
    moment, last = (now - GRACE).astimezone(local), None
    while (fire := trigger.get_next_fire_time(None, moment)) is not None and fire <= now:
        last, moment = fire, fire + dt.timedelta(seconds=1)
    return last.astimezone(dt.UTC) if last else None


def run_job(app: App, name: str, *, at: dt.datetime | None = None, scheduled: bool = False,
            occurrence: dt.datetime | None = None) -> str:
    """Run one job now (or as if the clock read ``at``) and record the run.

    On PostgreSQL the job runs only where its advisory lock is free, so
    several daemons sharing one database never run it twice at once.

    ``scheduled`` (the daemon's scheduler): the run is an occurrence of the schedule —
    the latest fire time at or before now (:func:`occurrence_of`), or ``occurrence``
    when given — recorded once across all processes (``store.occurrences``): a daemon
    whose scheduler fires seconds after another's finds it done and skips it, one whose
    holder died mid-run takes it over. A manual run (``mailbot jobs run NAME``, not
    scheduled) is what someone asked for: it runs even when the occurrence of the hour
    is done, and is not recorded as one (it neither stands for nor blocks the next).
    """
    jobs = load_all()
    job = jobs.get(name)
    if job is None:
        raise UsageError(f"tâche inconnue « {name} » ; tâches : {', '.join(sorted(jobs))}")
    if at is not None:
        app.clock = Clock(frozen=at)
    now = app.clock.now()
    fire = (occurrence or occurrence_of(app, job, now)) if scheduled else None
    with _job_lock(app, name) as mine:
        if not mine:
            return "déjà en cours sur une autre instance"
        if fire is not None:
            with app.db.transaction() as session:
                if not occurrences.begin(session, name, fire, app.worker, now):
                    log.info("job %s: occurrence %s already done", name, fire.isoformat())
                    return "déjà faite par une autre instance"
        try:
            summary = job.run(app, now)
        except Exception as error:
            _record(app, name, now, "erreur", f"échec ({type(error).__name__})", fire)
            log.error("job %s failed (%s)", name, type(error).__name__)
            raise
        _record(app, name, now, "ok", summary, fire)
    log.info("job %s: %s", name, summary)
    return summary


def _record(app: App, name: str, clock_at: dt.datetime, status: str, summary: str,
            fire: dt.datetime | None = None) -> None:
    with app.db.transaction() as session:
        if fire is not None:
            occurrences.finish(session, name, fire, status, clock_at)
        row = session.get(JobRun, name)
        if row is None:
            row = JobRun(name=name, runs=0)
            session.add(row)
        row.last_run_at = dt.datetime.now(dt.UTC)
        row.last_clock = clock_at
        row.last_status = status
        row.last_summary = summary[:500]
        row.runs = (row.runs or 0) + 1


