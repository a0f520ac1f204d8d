"""Forged tokens counted per address, and the addresses quarantined because of them.

An address is *blocked* after ``limit`` bad tokens within an hour: its next mails
are quarantined until :func:`lift` (a coordinator, audited). Codes are never
stored, only the address, the kind of fault and when.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import audit, transaction_state
from store.models_security import BlockedSender, ForgedToken

WINDOW = dt.timedelta(hours=1)


def audit_id(address: str) -> str:
    """How the audit trail names an address (a patient's may be one): a short digest."""
    return "sha256:" + hashlib.sha256(address.encode()).hexdigest()[:16]


def _active(session: Session) -> set[str]:
    """Blocked addresses, read once per transaction (usually none)."""
    return transaction_state.setdefault(session, "blocked_senders", lambda: set(session.scalars(
        select(BlockedSender.address).where(BlockedSender.lifted_at.is_(None)))))


def is_blocked(session: Session, address: str | None) -> bool:
    """True when mail from ``address`` must be quarantined."""
    return bool(address) and str(address).lower() in _active(session)


def record_forged(session: Session, address: str, *, kind: str, now: dt.datetime, limit: int,
                  inbound_id: int | None = None) -> bool:
    """Count one bad token from ``address``; block it at ``limit`` within the hour.

    Returns True when this token blocked the address.
    """
    address = address.lower()
    session.add(ForgedToken(address=address, kind=kind, at=now, inbound_message_id=inbound_id))
    session.flush()
    if is_blocked(session, address):
        return False
    count = session.scalar(select(func.count()).select_from(ForgedToken).where(
        ForgedToken.address == address, ForgedToken.at > now - WINDOW)) or 0
    if count < limit:
        return False
    row = session.get(BlockedSender, address)
    reason = f"{count} jetons falsifiés ou rejoués en moins d'une heure"
    if row is None:
        session.add(BlockedSender(address=address, reason=reason, forged_count=count,
                                  blocked_at=now, lifted_at=None, lifted_by=None))
    else:
        row.reason, row.forged_count, row.blocked_at = reason, count, now
        row.lifted_at = row.lifted_by = None
    _active(session).add(address)
    audit.record(session, actor="system", action="sender.block", object_type="sender",
                 object_id=audit_id(address), after={"forged_count": count},
                 inbound_message_id=inbound_id, at=now)
    return True


def blocked(session: Session) -> list[BlockedSender]:
    """Addresses blocked now, oldest first."""
    return list(session.scalars(select(BlockedSender).where(BlockedSender.lifted_at.is_(None))
                                .order_by(BlockedSender.blocked_at)))


def lift(session: Session, address: str, *, actor: str, now: dt.datetime) -> bool:
    """Let ``address`` write again; False when it was not blocked. Audited."""
    row = session.get(BlockedSender, address.strip().lower())
    if row is None or row.lifted_at is not None:
        return False
    row.lifted_at, row.lifted_by = now, actor
    _active(session).discard(row.address)
    audit.record(session, actor=actor, action="sender.unblock", object_type="sender",
                 object_id=audit_id(row.address), before={"forged_count": row.forged_count}, at=now)
    return True
