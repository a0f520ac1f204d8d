"""Health counters of a deployment: what monitoring alerts on (``mailbot doctor --json``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import outbox
from store.models import InboundMessage, InboundState, OutboxMessage, OutboxState


@dataclass(frozen=True)
class Health:
    """Counts and ages (seconds) read in one transaction; ``None`` ages: nothing waiting."""

    inbound_unprocessed: int
    oldest_unprocessed_s: float | None
    outbox_pending: int
    oldest_pending_s: float | None
    outbox_failed: int
    outbox_failed_24h: int
    outbox_refused: int

    def as_dict(self) -> dict[str, int | float | None]:
        """The counters under their stable JSON names."""
        return asdict(self)


def _age(now: dt.datetime, then: dt.datetime | None) -> float | None:
    if then is None:
        return None
    if then.tzinfo is None:
        then = then.replace(tzinfo=dt.UTC)
    return round(max(0.0, (now - then).total_seconds()), 1)


def read_health(session: Session, now: dt.datetime) -> Health:
    """The counters at ``now``: unprocessed mails, outbox backlog, failed deliveries."""
    unprocessed, oldest_in = session.execute(
        select(func.count(), func.min(InboundMessage.received_at))
        .where(InboundMessage.state == InboundState.RECEIVED)).one()
    pending, oldest_out = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.state == OutboxState.PENDING)).one()
    by_state = outbox.counts_by_state(session)
    failed_24h = session.scalar(
        select(func.count()).select_from(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.FAILED,
               OutboxMessage.created_at >= now - dt.timedelta(hours=24)))
    return Health(
        inbound_unprocessed=int(unprocessed), oldest_unprocessed_s=_age(now, oldest_in),
        outbox_pending=int(pending), oldest_pending_s=_age(now, oldest_out),
        outbox_failed=int(by_state.get(OutboxState.FAILED, 0)),
        outbox_failed_24h=int(failed_24h or 0),
        outbox_refused=int(by_state.get(OutboxState.REFUSED, 0)))
