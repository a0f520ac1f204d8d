"""The outbox: mails waiting to be delivered, with retries and backoff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from store import transaction_state
from store.models import OutboxMessage, OutboxState
from store.types import UTCDateTime

_INSERT = insert(OutboxMessage).returning(OutboxMessage.id)
_SENT_TO_SINCE = select(func.count()).select_from(OutboxMessage).where(
    OutboxMessage.recipient == bindparam("recipient"),
    OutboxMessage.created_at >= bindparam("since", type_=UTCDateTime()))


_COUNTS = "outbox_sent_to"  # recipient → (window start, mails), for the current transaction


def enqueue(session: Session, *, message_id: str, kind: str, sender: str,
            recipients: Sequence[str], raw: bytes, health_data: bool, now: dt.datetime,
            entry_id: int | None = None, inbound_id: int | None = None) -> int:
    """Add a mail to the outbox in the caller's transaction; return its id."""
    recipient = recipients[0].lower() if recipients else None
    counts: dict[str, tuple[dt.datetime, int]] = transaction_state.get(session, _COUNTS) or {}
    if recipient in counts:
        since, sent = counts[recipient]
        counts[recipient] = (since, sent + 1)
    values = {
        "message_id": message_id, "created_at": now, "kind": kind, "sender": sender,
        "recipients": list(recipients), "recipient": recipient,
        "raw": raw, "health_data": health_data,
        "state": OutboxState.PENDING, "attempts": 0, "next_attempt_at": now,
    }  # columns left out (last error, sending time, route…) are NULL
    if entry_id is not None:
        values["entry_id"] = entry_id
    if inbound_id is not None:
        values["inbound_message_id"] = inbound_id
    return int(session.connection().execute(_INSERT, values).scalar_one())


def claim_due(session: Session, now: dt.datetime, limit: int) -> list[OutboxMessage]:
    """Pending mails whose next attempt is due, oldest first (SKIP LOCKED on PostgreSQL)."""
    query = (select(OutboxMessage)
             .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now)
             .order_by(OutboxMessage.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query).all())


def mark_sent(message: OutboxMessage, *, now: dt.datetime, route: str) -> None:
    """The server accepted the mail for every recipient."""
    message.state = OutboxState.SENT
    message.sent_at = now
    message.route = route
    message.attempts += 1
    message.last_error = None


def mark_retry(message: OutboxMessage, *, now: dt.datetime, error: str, base_seconds: float,
               max_seconds: float, max_attempts: int) -> bool:
    """Schedule another attempt with exponential backoff; return False once given up."""
    message.attempts += 1
    message.last_error = error[:500]
    if message.attempts >= max_attempts:
        message.state = OutboxState.FAILED
        return False
    delay = min(max_seconds, base_seconds * (2 ** (message.attempts - 1)))
    message.next_attempt_at = now + dt.timedelta(seconds=delay)
    return True


def mark_failed(message: OutboxMessage, *, error: str, state: OutboxState = OutboxState.FAILED) -> None:
    """Give up on a mail (permanent failure or refused route)."""
    message.attempts += 1
    message.state = state
    message.last_error = error[:500]


def counts_by_state(session: Session) -> dict[str, int]:
    """How many outgoing mails are in each state."""
    rows = session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state))
    return {state: int(n) for state, n in rows}


def sent_to_since(session: Session, recipient: str, since: dt.datetime) -> int:
    """How many mails were enqueued for ``recipient`` since ``since`` (loop guard; indexed).

    Read once per recipient and transaction, then counted as :func:`enqueue` adds mails:
    a batch of referrals from one partner costs one query, not one per mail. Within the
    transaction a later ``since`` reuses the earlier window (a few seconds wider), so the
    count can only be higher, never lower, than the exact one.
    """
    key = recipient.lower()
    counts: dict[str, tuple[dt.datetime, int]] = transaction_state.setdefault(session, _COUNTS,
                                                                               dict)
    cached = counts.get(key)
    if cached is not None and cached[0] <= since:
        return cached[1]
    sent = int(session.connection().execute(_SENT_TO_SINCE, {"recipient": key,
                                                             "since": since}).scalar_one())
    counts[key] = (since, sent)
    return sent
