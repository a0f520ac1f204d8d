"""The outbox worker: delivers pending mails with retries, never twice once accepted."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from contextlib import AsyncExitStack

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.errors import TransportPermanentError, TransportTemporaryError
from mailbot.faults import checkpoint
from mailbot.routing import Route, choose_route, routes_of
from mailbot.transports.base import OutboundTransport, flush
from mailbot.transports.factory import outbound_transport
from store import audit, outbox
from store.alerts import raise_alert
from store.models import OutboxMessage, OutboxState

log = logging.getLogger(__name__)


class OutboxWorker:
    """Delivers due outbox rows route by route, keeping connections open for a pass."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.routes = routes_of(app.config.outbound)

    async def deliver_due(self, *, limit: int = 1000, batch: int = 50) -> Counter[str]:
        """Try every due mail once; return counts by outcome (sent, retry, failed, refused).

        Mails are claimed by batches in one transaction (``SKIP LOCKED`` on
        PostgreSQL); what the transports wrote is made durable before the
        transaction records it as sent.
        """
        counts: Counter[str] = Counter()
        async with AsyncExitStack() as stack:
            opened: dict[str, OutboundTransport] = {}
            handled = 0
            while handled < limit:
                try:
                    with self.app.db.transaction() as session:
                        now = self.app.clock.now()
                        due = outbox.claim_due(session, now, min(batch, limit - handled))
                        if not due:
                            break
                        outcomes: Counter[str] = Counter()
                        for message in due:
                            route = choose_route(self.routes, message.recipients[0])
                            outcome = await self._deliver_one(message, route, opened, stack)
                            outcomes[outcome] += 1
                            if outcome in ("refused", "failed", "partial"):
                                self._report_failure(session, message, route,
                                                     "failed" if outcome == "partial" else outcome,
                                                     now)
                        for transport in opened.values():
                            await flush(transport)  # raises before anything is recorded as sent
                except TransportTemporaryError as error:
                    # A buffering transport could not write part of the batch: the batch
                    # was rolled back and stays pending, to be written again next pass.
                    log.error("outbox: batch of %d mails left pending (%s)", len(due), error)
                    counts["retry"] += len(due)
                    break
                counts.update(outcomes)
                handled += len(due)
        return counts

    @staticmethod
    def _report_failure(session: Session, message: OutboxMessage, route: Route, outcome: str,
                        now: dt.datetime) -> None:
        audit.record(session, actor="system", action=f"outbox.{outcome}", object_type="outbox",
                     object_id=message.id, after={"route": route.name, "kind": message.kind}, at=now)
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

    async def _deliver_one(self, message: OutboxMessage, route: Route,
                           opened: dict[str, OutboundTransport], stack: AsyncExitStack) -> str:
        now = self.app.clock.now()
        cfg = self.app.config.outbound
        if message.health_data and not route.secure:
            outbox.mark_failed(message, error="données de santé refusées sur une voie non sécurisée",
                               state=OutboxState.REFUSED)
            log.error("outbox %s refused: health data on insecure route %s", message.id, route.name)
            return "refused"
        if len({choose_route(self.routes, r).name for r in message.recipients}) > 1:
            outbox.mark_failed(message, error="destinataires sur des voies différentes")
            return "failed"
        checkpoint("before_send")
        try:
            transport = await self._transport(route, opened, stack)
            report = await transport.send(message.sender, message.recipients, message.raw)
        except TransportTemporaryError as error:
            opened.pop(route.name, None)
            kept = outbox.mark_retry(message, now=now, error=str(error),
                                     base_seconds=cfg.retry_base_seconds,
                                     max_seconds=cfg.retry_max_seconds, max_attempts=cfg.max_attempts)
            log.warning("outbox %s: temporary failure on %s (%s)", message.id, route.name,
                        type(error).__name__)
            return "retry" if kept else "failed"
        except TransportPermanentError as error:
            outbox.mark_failed(message, error=str(error))
            log.error("outbox %s: permanent failure on %s", message.id, route.name)
            return "failed"
        except Exception as error:  # TLS settings, or unexpected: retried, and the mails of
            opened.pop(route.name, None)  # the batch already accepted stay recorded as sent
            kept = outbox.mark_retry(message, now=now, error=f"{type(error).__name__}: {error}",
                                     base_seconds=cfg.retry_base_seconds,
                                     max_seconds=cfg.retry_max_seconds, max_attempts=cfg.max_attempts)
            log.error("outbox %s: failure on %s (%s)", message.id, route.name, type(error).__name__)
            return "retry" if kept else "failed"
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

