"""Each occurrence of a scheduled job runs once across all processes (issue 14); a dead
worker's sends and unfinished occurrences are taken over after its lease."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from mailbot.app import App
from mailbot.clock import PARIS, Clock
from mailbot.config import load_config
from mailbot.daemon.heartbeat import Heartbeat
from mailbot.jobs import REGISTRY, Job
from mailbot.jobs.schedule import occurrence_of, run_job
from mailbot.outbound.delivery import OutboxWorker
from store import occurrences, outbox, workers
from store.models import JobRun, OutboxMessage
from store.models_workers import JobOccurrence
from tests.helpers import Bot

NINE = dt.datetime(2026, 12, 4, 9, 0, tzinfo=PARIS)
RUNS: list[dt.datetime] = []


def _slow(app: App, now: dt.datetime) -> str:
    RUNS.append(now)
    time.sleep(0.3)  # long enough for a second scheduler to fire meanwhile
    return "fait"


@pytest.fixture
def slow_job() -> Iterator[str]:
    """A job at 09:00 every day that takes 0.3 s and counts its runs."""
    RUNS.clear()
    REGISTRY["lente"] = Job("lente", "tâche de test", "0 9 * * *", _slow)
    yield "lente"
    del REGISTRY["lente"]


def _app(bot: Bot, worker: str, at: dt.datetime) -> App:
    """Another App instance (its own engine) on the bot's database, clock frozen at ``at``."""
    app = App.from_config(load_config(bot.config_path), clock=Clock(frozen=at))
    return dataclasses.replace(app, worker=worker)


def test_the_occurrence_of_a_fire_time_is_the_latest_one_before(bot: Bot, slow_job: str) -> None:
    job = REGISTRY[slow_job]
    assert occurrence_of(bot.app, job, NINE + dt.timedelta(seconds=7)) == NINE.astimezone(dt.UTC)
    assert occurrence_of(bot.app, job, NINE - dt.timedelta(seconds=1)) is None  # beyond GRACE


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_two_daemons_racing_run_each_occurrence_once(bot: Bot, slow_job: str) -> None:
    for day in range(3):
        fire = NINE + dt.timedelta(days=day)
        apps = [_app(bot, f"w{i}:{i}:{i}", fire + dt.timedelta(seconds=2 + 5 * i)) for i in range(2)]
        start = threading.Barrier(2)
        said: list[str] = []

        def fire_in(app: App, start: threading.Barrier, said: list[str]) -> None:
            start.wait()
            said.append(run_job(app, slow_job, scheduled=True))

        threads = [threading.Thread(target=fire_in, args=(app, start, said)) for app in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(said) == ["déjà en cours sur une autre instance", "fait"]
        late = _app(bot, "w3:3:3", fire + dt.timedelta(seconds=40))  # fires after it finished
        assert run_job(late, slow_job, scheduled=True) == "déjà faite par une autre instance"
        for app in [*apps, late]:
            app.db.dispose()
    assert len(RUNS) == 3
    with bot.app.db.sessions() as session:
        assert session.get(JobRun, slow_job).runs == 3  # type: ignore[union-attr]
        rows = session.scalars(select(JobOccurrence)).all()
        assert [(r.status, r.runs) for r in rows] == [("ok", 1)] * 3


def test_a_manual_run_runs_even_when_the_occurrence_is_done(bot: Bot, slow_job: str) -> None:
    app = dataclasses.replace(bot.app, clock=Clock(frozen=NINE + dt.timedelta(seconds=3)))
    assert run_job(app, slow_job, scheduled=True) == "fait"
    assert run_job(app, slow_job, scheduled=True) == "déjà faite par une autre instance"
    assert run_job(app, slow_job) == "fait"  # asked for by hand
    assert len(RUNS) == 2


def test_an_occurrence_left_by_a_dead_worker_is_taken_over_a_live_one_is_not(
        bot: Bot, slow_job: str) -> None:
    lease = bot.app.lease
    with bot.app.db.autocommit() as connection:
        workers.register(connection, "alive:1:1", role="daemon", now=NINE, lease=lease * 100)
    with bot.app.db.transaction() as session:  # both began at 09:00:02 and never finished
        assert occurrences.begin(session, slow_job, NINE.astimezone(dt.UTC), "dead:2:2", NINE)
        assert occurrences.begin(session, slow_job, (NINE + dt.timedelta(days=1)).astimezone(
            dt.UTC), "alive:1:1", NINE)
    later = dataclasses.replace(bot.app, worker="me:3:3",
                                clock=Clock(frozen=NINE + dt.timedelta(minutes=5)))
    beats = Heartbeat(later)
    beats.beat()
    assert beats._resumer is not None
    beats._resumer.join()
    beats.beat()  # done now: nothing more to take over
    assert beats._resumer is not None and not beats._resumer.is_alive()
    assert len(RUNS) == 1 and RUNS[0] == NINE + dt.timedelta(minutes=5)
    with bot.app.db.sessions() as session:
        rows = session.scalars(select(JobOccurrence).order_by(JobOccurrence.fire_at)).all()
        assert [(r.worker, r.status, r.runs) for r in rows] == [
            ("me:3:3", "ok", 2), ("alive:1:1", "running", 1)]


def test_the_outbox_escalates_a_dead_worker_send_after_the_lease_and_never_resends(
        bot: Bot) -> None:
    lease = bot.app.lease
    with bot.app.db.transaction() as session:
        mail = outbox.enqueue(session, message_id="u1@x", kind="ack", sender="bot@x",
                              recipients=["a@dac16.mssante.fr"], raw=b"x", health_data=False,
                              now=NINE)
    with bot.app.db.autocommit() as connection:
        workers.register(connection, "dead:2:2", role="daemon", now=NINE, lease=lease)
        outbox.start_attempts(connection, [mail], NINE, "dead:2:2")
    early = dataclasses.replace(bot.app, clock=Clock(frozen=NINE + lease / 2))
    assert OutboxWorker(early).settle_interrupted() == {}
    late = dataclasses.replace(bot.app, clock=Clock(frozen=NINE + lease * 2))
    import asyncio

    assert asyncio.run(OutboxWorker(late).deliver_due()) == {"uncertain": 1}
    with bot.app.db.sessions() as session:
        row = session.get(OutboxMessage, mail)
        assert row is not None and (row.state, row.attempt_started_by) == ("failed", None)
    assert bot.sent() == []
