"""Mail addresses that fail: bounces recorded per address, permanent apart from temporary.

A permanent failure (unknown mailbox, domain gone) makes the address
*failing* at once; temporary failures (mailbox full, server down) add up and
fail it at ``temporary_threshold``. A mail received from the address, or a
coordinator resetting it, makes it OK again. The state is keyed by the
lower-case address, so a corrected e-mail on an entry starts afresh.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import audit
from store.models_recontact import AddressEvent, AddressState, AddressStatus


@dataclass(frozen=True)
class Failure:
    """What one bounce said about one address."""

    address: str
    permanent: bool
    status: str | None = None  # DSN status code ("5.1.1"), never the diagnostic text


def _get(session: Session, address: str, now: dt.datetime) -> AddressStatus:
    row = session.get(AddressStatus, address)
    if row is None:
        row = AddressStatus(address=address, state=AddressState.OK, permanent_failures=0,
                            temporary_failures=0, updated_at=now)
        session.add(row)
    return row


def record_failure(session: Session, failure: Failure, *, now: dt.datetime,
                   temporary_threshold: int, entry_id: int | None = None,
                   inbound_id: int | None = None, outbox_message_id: str | None = None,
                   actor: str = "system") -> AddressStatus:
    """Record one bounce; return the address's status (``state`` tells whether it now fails)."""
    address = failure.address.lower()
    row = _get(session, address, now)
    before = row.state
    if failure.permanent:
        row.permanent_failures = (row.permanent_failures or 0) + 1
    else:
        row.temporary_failures = (row.temporary_failures or 0) + 1
    row.last_status = failure.status
    row.first_failure_at = row.first_failure_at or now
    row.last_failure_at = now
    row.updated_at = now
    if before != AddressState.FAILING and (
            failure.permanent or (row.temporary_failures or 0) >= temporary_threshold):
        row.state = AddressState.FAILING
        row.failing_since = now
    session.add(AddressEvent(address=address, at=now,
                             kind="permanent" if failure.permanent else "temporary",
                             status=failure.status, entry_id=entry_id,
                             inbound_message_id=inbound_id, outbox_message_id=outbox_message_id))
    if row.state != before:
        audit.record(session, actor=actor, action="address.failing", object_type="address",
                     object_id=f"entry:{entry_id}" if entry_id else None,
                     before={"state": before}, after={"state": row.state, "status": failure.status},
                     inbound_message_id=inbound_id, at=now)
    return row


def record_success(session: Session, address: str, *, now: dt.datetime,
                   entry_id: int | None = None, inbound_id: int | None = None,
                   actor: str = "system") -> None:
    """A mail came from ``address``: it works; a failing state and temporary count are cleared."""
    address = address.lower()
    row = session.get(AddressStatus, address)
    if row is None:
        return  # nothing known against it: nothing to record
    row.last_success_at = now
    row.updated_at = now
    if row.state == AddressState.FAILING or row.temporary_failures:
        before = row.state
        row.state = AddressState.OK
        row.temporary_failures = 0
        row.failing_since = None
        session.add(AddressEvent(address=address, at=now, kind="success", entry_id=entry_id,
                                 inbound_message_id=inbound_id))
        if before != row.state:
            audit.record(session, actor=actor, action="address.ok", object_type="address",
                         object_id=f"entry:{entry_id}" if entry_id else None,
                         before={"state": before}, after={"state": row.state},
                         inbound_message_id=inbound_id, at=now)


def reset(session: Session, address: str, *, now: dt.datetime, actor: str) -> bool:
    """A coordinator says the address works again; return False when nothing was known."""
    address = address.lower()
    row = session.get(AddressStatus, address)
    if row is None:
        return False
    before = row.state
    row.state = AddressState.OK
    row.temporary_failures = 0
    row.failing_since = None
    row.updated_at = now
    session.add(AddressEvent(address=address, at=now, kind="reset"))
    audit.record(session, actor=actor, action="address.reset", object_type="address",
                 before={"state": before}, after={"state": row.state}, at=now)
    return True


def is_failing(session: Session, address: str) -> bool:
    """True when mail to ``address`` is known not to arrive."""
    row = session.get(AddressStatus, address.lower())
    return row is not None and row.state == AddressState.FAILING


def failing_set(session: Session) -> set[str]:
    """Every failing address (one query, for a whole recontact round)."""
    query = select(AddressStatus.address).where(AddressStatus.state == AddressState.FAILING)
    return set(session.scalars(query))


def failing_addresses(session: Session) -> list[AddressStatus]:
    """Failing addresses, most recent failure first (digest, statistics)."""
    query = (select(AddressStatus).where(AddressStatus.state == AddressState.FAILING)
             .order_by(AddressStatus.last_failure_at.desc()))
    return list(session.scalars(query))


def failure_counts(session: Session, since: dt.datetime | None = None) -> dict[str, int]:
    """Bounces recorded by kind (``permanent``, ``temporary``), optionally since ``since``."""
    query = (select(AddressEvent.kind, func.count())
             .where(AddressEvent.kind.in_(("permanent", "temporary"))).group_by(AddressEvent.kind))
    if since is not None:
        query = query.where(AddressEvent.at >= since)
    counts: dict[str, int] = {"permanent": 0, "temporary": 0}
    for kind, n in session.execute(query):
        counts[kind] = int(n)
    return counts
