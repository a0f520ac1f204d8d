"""The long-running daemon: inbound loop, outbox and scheduler in one asyncio process.

SIGTERM and SIGINT let the current mail finish, then exit 0. SIGHUP re-reads
the configuration (a bad file is reported and the running one kept).

Two loops share the event loop: the inbound loop (fetch, store, process, set
aside, then IDLE) and the outbox worker (woken by new mail, a scheduled job or
the next retry due). Their units of work take turns (``_turn``): on SQLite a
database transaction must never wait for the other loop. Any fault — network,
server restart, database — is logged with its cause (the transport's message:
server, port, reply; never mail content) and retried with capped exponential
backoff and jitter: the daemon does not die of it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import random
import signal
from collections.abc import Coroutine
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from mailbot import logs
from mailbot.app import App
from mailbot.config.tenants import load_selected
from mailbot.daemon.leader import InboundLeader
from mailbot.errors import ConfigError, MailbotError, TransportError, TransportTemporaryError
from mailbot.inbound.pipeline import Pipeline
from mailbot.jobs import load_all
from mailbot.jobs.schedule import run_job, trigger_of, validate
from mailbot.jobs.urgent import notify_urgent_safely
from mailbot.outbound.delivery import OutboxWorker
from mailbot.transports.backoff import backoff_delay
from mailbot.transports.factory import inbound_transport
from store import outbox

log = logging.getLogger(__name__)
# APScheduler says "Running job…" at INFO each time a job runs (every minute): too chatty.
logging.getLogger("apscheduler").setLevel(logging.WARNING)

INBOUND_PASS = 100         # mails fetched per pass (one database batch): a stop waits for it
OUTBOX_PASS = 100          # mails sent per pass, on connections kept open for the pass
# A follower looks for mails the leader stored this often: one indexed SELECT a second,
# nothing to lose on a reconnection and no connection kept for it (LISTEN/NOTIFY would need
# both); the leader processes what it stores at once, so this only bounds the delay of
# mails it left (it died, or its batch failed).
FOLLOWER_POLL_SECONDS = 1.0
OUTBOX_IDLE_SECONDS = 30.0  # the outbox looks for due mail at least this often
BACKOFF_BASE_SECONDS = 1.0  # first retry after a fault: 0.5–1 s, then doubling…
BACKOFF_CAP_SECONDS = 300.0  # …up to 2.5–5 min


def _log_fault(what: str, error: BaseException, failures: int, delay: float) -> None:
    """Log why a loop failed and when it retries.

    A transport error's message names the server, the port and its reply (never
    mail content); for anything else (database…) only the class is logged, as
    its text may quote data.
    """
    if isinstance(error, TransportError):
        level = logging.WARNING if isinstance(error, TransportTemporaryError) else logging.ERROR
        hint = "" if level == logging.WARNING else " ; « mailbot doctor » dit comment corriger"
        log.log(level, "%s failed (%s: %s)%s; retry n°%d in %.1f s", what, type(error).__name__,
                error, hint, failures, delay)
    else:
        log.critical("%s failed (%s); retry n°%d in %.1f s", what, type(error).__name__,
                     failures, delay)


def _retry_delay(failures: int) -> float:
    """Capped exponential backoff with jitter after ``failures`` faults in a row."""
    return backoff_delay(failures - 1, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_CAP_SECONDS,
                         draw=random.random())


class Daemon:
    """Runs passes until told to stop."""

    def __init__(self, args: argparse.Namespace, app: App) -> None:
        self.args = args
        self.app = app
        self.stopping = asyncio.Event()
        self.reload_requested = False
        self.scheduler = AsyncIOScheduler(timezone=app.config.jobs.timezone)
        self._reload_event = asyncio.Event()
        self._outbox_wake = asyncio.Event()
        self._turn = asyncio.Lock()  # one unit of database work at a time (inbound or outbox)

    def _reload(self) -> None:
        self.reload_requested = False
        self._reload_event.clear()
        try:
            config = load_selected(self.args.config, getattr(self.args, "tenant", None),
                                   getattr(self.args, "tenants_dir", None))
        except ConfigError as error:
            log.error("configuration not reloaded: %s", error)
            return
        app = App.from_config(config, clock=self.app.clock)
        try:
            validate(app)
        except ConfigError as error:
            log.error("configuration not reloaded: %s", error)
            return
        old, self.app = self.app, app
        logs.setup(config.logging.level, getattr(self.args, "log_format", None)
                   or config.logging.format, config.logging.file, tenant=config.tenant)
        self._schedule()
        old.db.dispose()
        self._outbox_wake.set()  # routes may have changed
        log.info("configuration reloaded")

    def _schedule(self) -> None:
        """(Re)create the scheduler's jobs from the current configuration."""
        self.scheduler.remove_all_jobs()
        for job in load_all().values():
            trigger = trigger_of(self.app, job)
            if trigger is not None:
                # The outbox job only wakes the daemon's own worker: running it beside the
                # worker could send a mail twice on SQLite (no SKIP LOCKED there).
                run = self._kick_outbox if job.name == "outbox" else self._run_job
                self.scheduler.add_job(run, trigger, args=[job.name], id=job.name,
                                       max_instances=1, coalesce=True, misfire_grace_time=3600)

    async def _kick_outbox(self, name: str) -> None:
        """Wake the outbox worker (the ``outbox`` job, run by the daemon itself)."""
        self._outbox_wake.set()

    async def _run_job(self, name: str) -> None:
        """Run a scheduled job in a worker thread; a failure is logged, never fatal."""
        try:
            await asyncio.to_thread(run_job, self.app, name, scheduled=True)
        except MailbotError as error:
            log.error("job %s failed: %s", name, type(error).__name__)
        except Exception as error:
            log.critical("job %s crashed (%s)", name, type(error).__name__)
        self._outbox_wake.set()  # what the job enqueued goes out now

    async def run(self) -> int:
        """Run the inbound loop, the outbox worker and the scheduler; exit 0 on SIGTERM/SIGINT."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._request_reload)
        self._schedule()
        self.scheduler.start()
        log.info("daemon started")
        outbox = asyncio.create_task(self._outbox_loop(), name="mailbot-outbox")
        try:
            await self._inbound_loop()
        finally:
            self.stopping.set()
            await outbox  # it finishes the pass it is sending
            self.scheduler.shutdown(wait=False)
        log.info("daemon stopped")
        return 0

    async def _inbound_loop(self) -> None:
        """Fetch, store, process and set aside mail, then wait for more; reconnect on faults.

        On PostgreSQL only the inbound leader reads the mailbox; the others process what
        it stored (:mod:`mailbot.daemon.leader`).
        """
        failures = 0
        leader = InboundLeader()
        try:
            while not self.stopping.is_set():
                if self.reload_requested:
                    async with self._turn:
                        self._reload()
                config = self.app.config
                try:
                    if not leader.acquire(self.app):
                        await self._follow(config.inbound.leader_retry_seconds)
                        continue
                    transport = inbound_transport(config.inbound,
                                                  config.source.parent if config.source else None)
                    pipeline = Pipeline(self.app, transport)
                    await transport.open()
                    try:
                        async with self._turn:
                            pipeline.process_leftovers()
                        while (not self.stopping.is_set() and not self.reload_requested
                               and leader.check()):
                            async with self._turn:
                                report = await pipeline.ingest(INBOUND_PASS)
                                settled = await pipeline.settle()
                            if failures:
                                log.info("inbound back after %d failure(s)", failures)
                                failures = 0
                            if report.fetched or settled:
                                self._outbox_wake.set()  # acknowledgements, urgent alerts: now
                            if not report.fetched:
                                await self._wait(transport.wait_for_mail(
                                    self._leader_wait(pipeline)))
                    finally:
                        await transport.close()
                except Exception as error:  # never die of a fault: say why, back off, retry
                    failures += 1
                    delay = _retry_delay(failures)
                    _log_fault("inbound", error, failures, delay)
                    await self._wait(asyncio.sleep(delay))
        finally:
            leader.release()

    def _leader_wait(self, pipeline: Pipeline) -> float:
        """How long the leader waits for mail before its next pass: it checks its lock
        every retry interval, and looks again soon for mails another process is finishing."""
        inbound = self.app.config.inbound
        if not self.app.db.is_postgres:
            return inbound.poll_seconds
        wait = min(inbound.poll_seconds, inbound.leader_retry_seconds)
        return min(wait, FOLLOWER_POLL_SECONDS) if pipeline.unsettled else wait

    async def _follow(self, seconds: float) -> None:
        """Process the mails the leader stores, for ``seconds`` (then try to lead again)."""
        config = self.app.config
        pipeline = Pipeline(self.app, inbound_transport(  # never opened: no mailbox access
            config.inbound, config.source.parent if config.source else None))
        deadline = asyncio.get_running_loop().time() + seconds
        while not self.stopping.is_set() and not self.reload_requested:
            async with self._turn:  # a batch at a time: the outbox gets its turns
                counts = pipeline.process_leftovers(INBOUND_PASS)
            if counts:
                self._outbox_wake.set()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            if not counts:
                await self._wait(asyncio.sleep(min(FOLLOWER_POLL_SECONDS, left)))

    async def _outbox_loop(self) -> None:
        """Deliver due mail when woken (new mail, a job, a reload) or when a retry falls due."""
        failures = 0
        while not self.stopping.is_set():
            woken = self._outbox_wake.is_set()
            self._outbox_wake.clear()
            try:
                async with self._turn:
                    worker = OutboxWorker(self.app)
                    counts = await worker.deliver_due(limit=OUTBOX_PASS)
                    if (woken or counts) and notify_urgent_safely(self.app):
                        counts.update(await worker.deliver_due(limit=OUTBOX_PASS))  # at once
                    delay = 0.0 if sum(counts.values()) >= OUTBOX_PASS else self._next_due_in()
                if counts:
                    log.info("outbox: %s", ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
                if failures:
                    log.info("outbox back after %d failure(s)", failures)
                    failures = 0
            except Exception as error:
                failures += 1
                delay = _retry_delay(failures)
                _log_fault("outbox", error, failures, delay)
            if delay > 0:
                await self._wait(self._outbox_wake.wait(), timeout=delay, reload=False)

    def _next_due_in(self) -> float:
        """Seconds until the next pending outbox mail is due (at most ``OUTBOX_IDLE_SECONDS``)."""
        with self.app.db.sessions() as session:
            due = outbox.next_due_at(session)
        if due is None:
            return OUTBOX_IDLE_SECONDS
        if due.tzinfo is None:
            due = due.replace(tzinfo=dt.UTC)
        left = (due - self.app.clock.now()).total_seconds()
        return min(OUTBOX_IDLE_SECONDS, max(0.05, left))

    def _request_reload(self) -> None:
        self.reload_requested = True
        self._reload_event.set()

    async def _wait(self, waiter: Coroutine[Any, Any, object], timeout: float | None = None, *,
                    reload: bool = True) -> None:
        """Wait for ``waiter`` (its error is raised), a stop (or reload) request, or ``timeout``."""
        task = asyncio.ensure_future(waiter)
        wakers = {asyncio.ensure_future(self.stopping.wait())}
        if reload:
            wakers.add(asyncio.ensure_future(self._reload_event.wait()))
        done, _ = await asyncio.wait({task, *wakers}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        for pending in (task, *wakers):
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending  # e.g. IDLE ends with DONE before the connection is closed
        if task in done:
            task.result()
