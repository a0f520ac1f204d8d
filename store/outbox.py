"""The outbox: mails waiting to be delivered, with retries and backoff."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.orm import Session

from store import transaction_state
from store.models import OutboxMessage, OutboxState
from store.models_workers import Worker
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


_DUE = (OutboxMessage.state == OutboxState.PENDING,
        OutboxMessage.attempt_started_at.is_(None))
# Only the primary key may lead PostgreSQL to the rows: on a new database, before the
# first ANALYZE, a plan through the state or next-attempt index scans every pending mail
# (milliseconds per statement, growing with the outbox). ``coalesce`` keeps those
# conditions off the indexes.
_START = (update(OutboxMessage)
          .where(OutboxMessage.id.in_(bindparam("mails", expanding=True)),
                 func.coalesce(OutboxMessage.state, "") == OutboxState.PENDING.value,
                 OutboxMessage.attempt_started_at.is_(None),
                 func.coalesce(OutboxMessage.next_attempt_at, bindparam("now", type_=UTCDateTime()))
                 <= bindparam("now", type_=UTCDateTime()))
          .values(attempt_started_at=bindparam("now", type_=UTCDateTime()),
                  attempt_started_by=bindparam("worker"))
          .returning(OutboxMessage.id))
_RELEASE = (update(OutboxMessage)
            .where(OutboxMessage.id.in_(bindparam("mails", expanding=True)),
                   func.coalesce(OutboxMessage.state, "") == OutboxState.PENDING.value)
            .values(attempt_started_at=None, attempt_started_by=None))
_OUTCOME = (update(OutboxMessage).where(OutboxMessage.id == bindparam("mail"))
            .values(state=bindparam("state"), attempts=bindparam("attempts"),
                    last_error=bindparam("last_error"),
                    next_attempt_at=bindparam("next_attempt_at", type_=UTCDateTime()),
                    sent_at=bindparam("sent_at", type_=UTCDateTime()), route=bindparam("route"),
                    recipients=bindparam("recipients", type_=OutboxMessage.recipients.type),
                    attempt_started_at=None, attempt_started_by=None))


def claim_due(session: Session, now: dt.datetime, limit: int) -> list[OutboxMessage]:
    """Pending mails whose next attempt is due, oldest first (SKIP LOCKED on PostgreSQL).

    A mail whose send was started (:func:`start_attempts`) and never recorded is not
    due: it waits for :func:`interrupted_sends`.
    """
    query = (select(OutboxMessage).where(*_DUE, OutboxMessage.next_attempt_at <= now)
             .order_by(OutboxMessage.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query).all())


def next_due_at(session: Session) -> dt.datetime | None:
    """When the earliest mail :func:`claim_due` would take falls due (``None``: none).

    A started send never recorded is left out: it is not due, it waits for
    :func:`interrupted_sends`.
    """
    return session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(*_DUE))


def start_attempts(connection: Connection, mail_ids: Sequence[int], now: dt.datetime,
                   worker: str | None = None) -> set[int]:
    """Record that these mails are about to be handed to a server by ``worker`` (its
    identity, ``store.workers``); return those marked.

    A mail left out is no longer due — another worker started, sent or rescheduled it
    since it was claimed: it must not be sent. The mark must be committed before the
    send (an autocommit connection, or the caller commits), so that a crash during the
    send leaves it (see :func:`interrupted_sends`).
    """
    if not mail_ids:
        return set()
    return set(connection.execute(_START, {"mails": list(mail_ids), "now": now,
                                           "worker": worker}).scalars())


def release_attempts(connection: Connection, mail_ids: Sequence[int]) -> None:
    """Clear the marks of mails marked started but never handed over (still pending)."""
    if mail_ids:
        connection.execute(_RELEASE, {"mails": list(mail_ids)})


def record_outcomes(connection: Connection, messages: Sequence[OutboxMessage]) -> None:
    """Write what the ``mark_*`` functions set on (detached) rows, in one statement, and
    clear their send marks."""
    if messages:
        connection.execute(_OUTCOME, [
            {"mail": m.id, "state": m.state, "attempts": m.attempts, "last_error": m.last_error,
             "next_attempt_at": m.next_attempt_at, "sent_at": m.sent_at, "route": m.route,
             "recipients": list(m.recipients)} for m in messages])


def interrupted_sends(session: Session, before: dt.datetime, *,
                      dead_before: dt.datetime | None = None,
                      now: dt.datetime | None = None) -> list[OutboxMessage]:
    """Pending mails whose send started and was never recorded: the process died while
    handing them over, and the server may have accepted them.

    A send counts as interrupted when it started before ``before`` (whoever started it:
    the ceiling, longer than any send can last), or — given ``dead_before`` and ``now`` —
    when it started before ``dead_before`` by a worker that is no longer live at ``now``
    (no registry row whose lease runs, ``store.workers``): a dead process sends nothing
    more, there is no need to wait for the ceiling. A send marked without a worker
    (before the registry existed) waits for the ceiling.
    """
    interrupted = OutboxMessage.attempt_started_at < before
    if dead_before is not None and now is not None:
        alive = exists().where(Worker.id == OutboxMessage.attempt_started_by,
                               Worker.expires_at >= now)
        interrupted = or_(interrupted, and_(OutboxMessage.attempt_started_at < dead_before,
                                            OutboxMessage.attempt_started_by.is_not(None),
                                            ~alive))
    query = (select(OutboxMessage)
             .where(OutboxMessage.state == OutboxState.PENDING,
                    OutboxMessage.attempt_started_at.is_not(None), interrupted)
             .order_by(OutboxMessage.id))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
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


def mark_uncertain(message: OutboxMessage, *, error: str) -> None:
    """Give up on a mail whose send was interrupted: never sent again automatically."""
    mark_failed(message, error=error)
    message.attempt_started_at = None
    message.attempt_started_by = None


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


def refuse_now(session: Session, outbox_id: int, *, error: str) -> None:
    """Mark a just-enqueued mail refused before any attempt (e.g. it could not be encrypted)."""
    session.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id)
                    .values(state=OutboxState.REFUSED, last_error=error[:500], attempts=0))
