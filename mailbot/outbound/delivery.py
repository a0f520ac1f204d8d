"""The outbox worker: delivers pending mails with retries, never twice once accepted."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.errors import TransportPermanentError, TransportTemporaryError
from mailbot.faults import checkpoint
from mailbot.outbound.routing import Route, choose_route, routes_of
from mailbot.transports.base import OutboundTransport, buffers, flush
from mailbot.transports.factory import outbound_transport
from parsers.pgpmime import looks_encrypted
from store import audit, outbox
from store.alerts import raise_alert
from store.models import OutboxMessage, OutboxState

log = logging.getLogger(__name__)


INTERRUPTED_AFTER = dt.timedelta(minutes=15)  # at least; longer with long SMTP timeouts
UNCERTAIN = ("envoi interrompu pendant la remise au serveur : le destinataire l'a peut-être "
             "reçu ; le message n'est pas renvoyé automatiquement")


_GIVEN_UP = frozenset({"refused", "failed", "partial"})  # audited, and an alert raised
START_GROUP = 5  # mails marked started together (one statement); after a crash, at most
                 # this many are reported "perhaps received", none is sent again


class _Ledger:
    """Outcomes of a claimed batch, written to the database as soon as it is safe.

    Before a mail is handed to a direct transport (SMTP) it is marked started, with
    the next few mails of the batch for the same route (:data:`START_GROUP`), and the
    outcomes gathered so far are written — each statement committed at once, on an
    autocommit connection kept for the pass — so that a crash during a hand-over
    leaves the mark (:func:`store.outbox.interrupted_sends`). Marks of mails never
    handed over are cleared at the end. A mail a buffering transport (Maildir) took
    is recorded only after that transport's flush: its file name is fixed, so
    writing it again after a crash replaces the same file.
    """

    def __init__(self, app: App, connection: Connection, batch: list[OutboxMessage]) -> None:
        self.app = app
        self.connection = connection
        self.batch = batch
        self.direct: list[tuple[OutboxMessage, str, Route]] = []
        self.buffered: list[tuple[OutboxMessage, str, Route]] = []
        self.started: set[int] = set()  # marked by this ledger…
        self.handed: set[int] = set()   # …and handed to a transport

    def start(self, message: OutboxMessage, same_route: Callable[[OutboxMessage], bool]) -> bool:
        """Mark ``message`` started (and, with it, the next mails for which ``same_route``
        holds); False: another worker has it, it must not be sent."""
        if message.id not in self.started:
            self._write(self.direct)
            self.direct = []
            following = [m.id for m in self.batch[self.batch.index(message) + 1:]
                         if m.id not in self.started and same_route(m)]
            group = [message.id, *following[:START_GROUP - 1]]
            self.started |= outbox.start_attempts(self.connection, group, self.app.clock.now(),
                                                  self.app.worker)
            if message.id not in self.started:
                return False
        self.handed.add(message.id)
        return True

    def add(self, message: OutboxMessage, outcome: str, route: Route, *, buffered: bool) -> None:
        """Keep an outcome for the next write."""
        (self.buffered if buffered else self.direct).append((message, outcome, route))

    def finish(self, *, buffered_durable: bool) -> None:
        """Write what is left (the buffered outcomes only if their transports flushed) and
        clear the marks of mails never handed over."""
        items = self.direct + (self.buffered if buffered_durable else [])
        self.direct, self.buffered = [], []
        self._write(items)
        outbox.release_attempts(self.connection, sorted(self.started - self.handed))

    def _write(self, items: list[tuple[OutboxMessage, str, Route]]) -> None:
        outbox.record_outcomes(self.connection,
                               [message for message, outcome, _ in items if outcome not in _GIVEN_UP])
        given_up = [item for item in items if item[1] in _GIVEN_UP]
        if not given_up:
            return
        with self.app.db.transaction() as session:  # the state, its audit and its alert together
            now = self.app.clock.now()
            outbox.record_outcomes(session.connection(), [message for message, _, _ in given_up])
            for message, outcome, route in given_up:
                OutboxWorker.report_failure(session, message, route.name,
                                            "failed" if outcome == "partial" else outcome, now)


class OutboxWorker:
    """Delivers due outbox rows route by route, keeping connections open for a pass."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.routes = routes_of(app.config.outbound)

    async def deliver_due(self, *, limit: int = 1000, batch: int = 50) -> Counter[str]:
        """Try every due mail once; return counts by outcome (sent, retry, failed, refused,
        uncertain).

        Mails are claimed by batches (``SKIP LOCKED`` on PostgreSQL). A mail is never
        sent twice once a server accepted it, even if the process dies: before an
        SMTP hand-over the mail's start is committed (with the next few, see
        :class:`_Ledger`), and a mail found started but never recorded
        (:meth:`interrupted_after` later) is not sent again but escalated as
        ``uncertain``. What buffering transports wrote is made durable before it is
        recorded as sent.
        """
        counts: Counter[str] = Counter(self.settle_interrupted())
        async with AsyncExitStack() as stack:
            opened: dict[str, OutboundTransport] = {}
            handled = 0
            connection = stack.enter_context(self.app.db.autocommit(wait_for_disk=False))
            while handled < limit:
                with self.app.db.transaction() as session:  # rows detached when it ends:
                    due = outbox.claim_due(session, self.app.clock.now(),  # the ledger
                                           min(batch, limit - handled))  # writes them
                if not due:
                    break
                ledger = _Ledger(self.app, connection, due)
                outcomes: Counter[str] = Counter()
                flushed = False
                try:
                    for message in due:
                        outcomes[await self._deliver_one(message, ledger, opened, stack)] += 1
                    for transport in opened.values():
                        await flush(transport)  # raises before anything buffered is recorded
                    flushed = True
                except TransportTemporaryError as error:
                    # A buffering transport could not write part of the batch: what it
                    # took stays pending, to be written again next pass.
                    log.error("outbox: %d buffered mails left pending (%s)",
                              len(ledger.buffered), error)
                    for _message, outcome, _route in ledger.buffered:
                        outcomes[outcome] -= 1
                    outcomes["retry"] += len(ledger.buffered)
                    counts.update(+outcomes)
                    break
                finally:
                    ledger.finish(buffered_durable=flushed)
                counts.update(+outcomes)
                handled += len(due)
        counts.pop("skipped", None)
        return counts

    def interrupted_after(self) -> dt.timedelta:
        """How long a started send may last before it counts as interrupted whoever holds it:
        longer than a whole group of sends timing out, on the slowest route, so that another
        daemon still sending it is never taken for a dead one.

        This ceiling stays for sends whose worker still beats (a process alive but stuck):
        only a dead worker's sends are settled after the lease (:meth:`settle_interrupted`).
        """
        slowest = max(getattr(route.config, "timeout_seconds", 0.0) for route in self.routes)
        return max(INTERRUPTED_AFTER, dt.timedelta(seconds=3 * START_GROUP * slowest))

    def settle_interrupted(self) -> Counter[str]:
        """Escalate the mails whose send was interrupted: failed, with an alert for the
        coordinators, never resent by the bot.

        Interrupted means started by a worker dead for longer than the lease (``[daemon]
        lease_seconds``: its heartbeat stopped, it sends nothing more), or started
        :meth:`interrupted_after` ago whoever holds it. The lease is sound here because
        the rule only ever escalates: a mail taken for interrupted is never sent again,
        so a lease misjudged (a worker cut from the database longer than the lease, still
        finishing its send) costs at worst a needless "perhaps received" alert, never a
        second copy. A live worker's sends wait for the ceiling, as before.
        """
        now = self.app.clock.now()
        with self.app.db.transaction() as session:
            found = outbox.interrupted_sends(session, now - self.interrupted_after(),
                                             dead_before=now - self.app.lease, now=now)
            for message in found:
                outbox.mark_uncertain(message, error=UNCERTAIN)
                log.error("outbox %s: send interrupted, not resent (escalated)", message.id)
                route = choose_route(self.routes, message.recipients[0])
                self.report_failure(session, message, route.name, "uncertain", now)
        return Counter({"uncertain": len(found)} if found else {})

    @staticmethod
    def report_failure(session: Session, message: OutboxMessage, route: str, outcome: str,
                       now: dt.datetime) -> None:
        """Audit a mail given up (``failed``, ``refused``, ``uncertain``) and alert the
        coordinators."""
        audit.record(session, actor="system", action=f"outbox.{outcome}", object_type="outbox",
                     object_id=message.id, after={"route": route, "kind": message.kind}, at=now)
        raise_alert(session, kind=f"delivery_{outcome}", now=now, urgent=outcome == "refused",
                    entry_id=message.entry_id, outbox_id=message.id,
                    reason=(message.last_error or outcome)[:300])

    async def _transport(self, route: Route, opened: dict[str, OutboundTransport],
                         stack: AsyncExitStack) -> OutboundTransport:
        transport = opened.get(route.name)
        if transport is None:
            transport = outbound_transport(route.config)
            await transport.open()
            stack.push_async_callback(transport.close)
            opened[route.name] = transport
        return transport

    async def _deliver_one(self, message: OutboxMessage, ledger: _Ledger,
                           opened: dict[str, OutboundTransport], stack: AsyncExitStack) -> str:
        """Try one mail and keep its outcome in ``ledger``; ``skipped``: another worker has it."""
        route = choose_route(self.routes, message.recipients[0])
        refused = self._refusal(message, route)
        if refused is not None:
            ledger.add(message, refused, route, buffered=False)
            return refused
        try:
            transport = await self._transport(route, opened, stack)
        except Exception as error:  # nothing was sent: the connection could not be opened
            outcome = self._send_failed(message, route, opened, error)
            ledger.add(message, outcome, route, buffered=False)
            return outcome
        buffered = buffers(transport)
        if not buffered and not ledger.start(message, lambda other: self._goes_by(other, route)):
            return "skipped"
        outcome = await self._send(message, route, transport, opened)
        ledger.add(message, outcome, route, buffered=buffered)
        return outcome

    def _goes_by(self, message: OutboxMessage, route: Route) -> bool:
        """True when ``message`` would be handed to ``route``."""
        return (choose_route(self.routes, message.recipients[0]) is route
                and self._blocked(message, route) is None)

    def _blocked(self, message: OutboxMessage, route: Route) -> str | None:
        """Why the mail must not go out on its ``route`` (``refused``, ``failed``), or None."""
        if message.health_data and not route.secure:
            return "refused"
        if route.config.require_encryption and not looks_encrypted(message.raw):
            return "refused"
        if len({choose_route(self.routes, r).name for r in message.recipients}) > 1:
            return "failed"
        return None

    def _refusal(self, message: OutboxMessage, route: Route) -> str | None:
        """Record and return ``refused``/``failed`` when the mail must not go out on
        ``route``; else None."""
        blocked = self._blocked(message, route)
        if blocked == "refused" and message.health_data and not route.secure:
            outbox.mark_failed(message, error="données de santé refusées sur une voie non sécurisée",
                               state=OutboxState.REFUSED)
            log.error("outbox %s refused: health data on insecure route %s", message.id, route.name)
        elif blocked == "refused":
            outbox.mark_failed(message, error="message non chiffré refusé sur une voie qui exige "
                               "le chiffrement", state=OutboxState.REFUSED)
            log.error("outbox %s refused: not encrypted, route %s requires it", message.id,
                      route.name)
        elif blocked == "failed":
            outbox.mark_failed(message, error="destinataires sur des voies différentes")
        return blocked

    def _send_failed(self, message: OutboxMessage, route: Route,
                     opened: dict[str, OutboundTransport], error: Exception) -> str:
        """Record a failed attempt: retried later (temporary, unexpected) or given up."""
        now = self.app.clock.now()
        cfg = self.app.config.outbound
        if isinstance(error, TransportPermanentError):
            outbox.mark_failed(message, error=str(error))
            log.error("outbox %s: permanent failure on %s", message.id, route.name)
            return "failed"
        opened.pop(route.name, None)  # the next mail opens a new connection
        text = str(error) if isinstance(error, TransportTemporaryError) else \
            f"{type(error).__name__}: {error}"  # TLS settings, or unexpected
        kept = outbox.mark_retry(message, now=now, error=text, base_seconds=cfg.retry_base_seconds,
                                 max_seconds=cfg.retry_max_seconds, max_attempts=cfg.max_attempts)
        level = logging.WARNING if isinstance(error, TransportTemporaryError) else logging.ERROR
        log.log(level, "outbox %s: failure on %s (%s)", message.id, route.name, type(error).__name__)
        return "retry" if kept else "failed"

    async def _send(self, message: OutboxMessage, route: Route, transport: OutboundTransport,
                    opened: dict[str, OutboundTransport]) -> str:
        """Hand the mail over and turn the server's per-recipient report into an outcome."""
        now = self.app.clock.now()
        cfg = self.app.config.outbound
        checkpoint("before_send")
        try:
            report = await transport.send(message.sender, message.recipients, message.raw)
        except Exception as error:
            return self._send_failed(message, route, opened, error)
        checkpoint("after_send")
        if report.permanent and report.temporary:  # retry the latter, escalate the former now
            refused = "; ".join(f"{r}: {e}" for r, e in report.permanent.items())
            message.recipients = list(report.temporary)
            kept = outbox.mark_retry(message, now=now, error=f"refusé : {refused}",
                                     base_seconds=cfg.retry_base_seconds,
                                     max_seconds=cfg.retry_max_seconds, max_attempts=cfg.max_attempts)
            log.warning("outbox %s: %d recipient(s) refused, %d to retry", message.id,
                        len(report.permanent), len(report.temporary))
            return "partial" if kept else "failed"
        if report.permanent:
            accepted = list(report.accepted)
            outbox.mark_failed(message, error="; ".join(f"{r}: {e}" for r, e in report.permanent.items()))
            message.recipients = list(report.permanent)
            if accepted:
                log.warning("outbox %s: %d recipient(s) refused", message.id, len(report.permanent))
            return "failed"
        if report.temporary:
            message.recipients = list(report.temporary)
            kept = outbox.mark_retry(message, now=now, error="; ".join(report.temporary.values()),
                                     base_seconds=cfg.retry_base_seconds,
                                     max_seconds=cfg.retry_max_seconds, max_attempts=cfg.max_attempts)
            return "retry" if kept else "failed"
        outbox.mark_sent(message, now=now, route=route.name)
        return "sent"

