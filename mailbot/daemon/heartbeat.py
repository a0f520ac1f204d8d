"""The process's heartbeat in the worker registry, and the takeover of dead workers' jobs.

While a ``mailbot`` process runs (``run``, ``run --once``, ``jobs run``) a thread of its
own renews its :class:`store.models_workers.Worker` row every third of the lease
(``[daemon] lease_seconds``) — a thread, so that a long job or a slow send on the event
loop never makes a live process look dead. A daemon's heartbeat also looks for job
occurrences left ``running`` by a dead worker (killed mid-round) and runs them again,
in a thread of their own, once (``store.occurrences``): a process killed mid-work leaves
its claims, and another takes them over after its lease. Inbound mails and sends are
taken over where they are claimed (``mailbot.inbound.pipeline``, ``mailbot.outbound``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from types import TracebackType

from sqlalchemy import Connection

from mailbot.app import App
from mailbot.jobs.schedule import GRACE, run_job
from store import occurrences, workers

log = logging.getLogger(__name__)


class Heartbeat:
    """Registers the process on entry, beats in a thread, unregisters on a clean exit."""

    def __init__(self, app: App, *, role: str = "daemon", resume_jobs: bool = True) -> None:
        self.app = app
        self.role = role
        self.resume_jobs = resume_jobs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resumer: threading.Thread | None = None

    @property
    def interval(self) -> float:
        """Seconds between two beats: a third of the lease."""
        return self.app.lease.total_seconds() / 3

    def __enter__(self) -> Heartbeat:
        try:
            with self.app.db.autocommit() as connection:
                workers.register(connection, self.app.worker, role=self.role,
                                 now=self.app.clock.now(), lease=self.app.lease)
                self._reap(connection)
        except Exception as error:  # the database is away: the first beat registers
            log.warning("worker %s not registered yet (%s)", self.app.worker,
                        type(error).__name__)
        log.info("worker %s registered (lease %.0f s)", self.app.worker,
                 self.app.lease.total_seconds())
        self._thread = threading.Thread(target=self._run, name="mailbot-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        for thread in (self._thread, self._resumer):
            if thread is not None:
                thread.join()
        try:
            with self.app.db.autocommit() as connection:
                released = workers.unregister(connection, self.app.worker)
        except Exception as failure:  # the claims then expire with the lease
            log.error("worker %s not unregistered (%s)", self.app.worker, type(failure).__name__)
            return
        log.info("worker %s unregistered (%d claim(s) handed back)", self.app.worker, released)

    def _reap(self, connection: Connection) -> None:
        """End the leases of this host's workers whose process is gone (killed)."""
        for dead in workers.reap(connection, self.app.worker, self.app.clock.now()):
            log.warning("worker %s is gone: its claims are taken over", dead)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def beat(self) -> None:
        """Renew the lease once, then look for abandoned job occurrences (never raises)."""
        try:
            with self.app.db.autocommit() as connection:
                workers.beat(connection, self.app.worker, now=self.app.clock.now(),
                             lease=self.app.lease, role=self.role)
                self._reap(connection)
        except Exception as error:  # the database is away: beat again next time
            log.warning("heartbeat of %s failed (%s)", self.app.worker, type(error).__name__)
            return
        if self.resume_jobs and (self._resumer is None or not self._resumer.is_alive()):
            try:
                now = self.app.clock.now()
                with self.app.db.sessions() as session:
                    left = occurrences.abandoned(session, now, now - GRACE)
            except Exception as error:
                log.warning("abandoned jobs not looked up (%s)", type(error).__name__)
                return
            if left:
                self._resumer = threading.Thread(target=self.resume, args=(left,),
                                                 name="mailbot-resume", daemon=True)
                self._resumer.start()

    def resume(self, left: list[tuple[str, dt.datetime]]) -> None:
        """Run again each occurrence a dead worker left unfinished."""
        for name, fire in left:
            if self._stop.is_set():
                return
            log.warning("job %s: occurrence %s left by a dead worker, taken over", name,
                        fire.isoformat())
            try:
                run_job(self.app, name, scheduled=True, occurrence=fire)
            except Exception as error:  # logged and recorded by run_job
                log.error("job %s taken over, failed (%s)", name, type(error).__name__)
