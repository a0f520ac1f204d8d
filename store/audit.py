"""Append-only, hash-chained audit trail.

Each row's hash covers its content and the previous row's hash, so removing or
editing a row breaks the chain; :func:`verify_chain` finds where.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, insert, select, text
from sqlalchemy.orm import Session, SessionTransaction

from store import appends
from store.models import AuditRecord

GENESIS = "0" * 64
_LOCK_KEY = 0x6D61696C626F74  # "mailbot": serialises chain appends on PostgreSQL
# One chain per schema, so one lock per schema: tenants sharing a database never wait on each
# other's appends. ``public`` keeps the historical key (a single-tenant upgrade changes nothing).
_LOCK_SQL = text("SELECT pg_advisory_xact_lock(CASE WHEN current_schema() = 'public' THEN :k "
                 "ELSE hashtextextended('mailbot-audit:' || current_schema(), 0) END)")
_INSERT = insert(AuditRecord)
_HEAD_QUERY = select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)
_HEAD = "audit_chain_head"  # session.info key: the newest hash appended in this transaction


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session: Session, transaction: SessionTransaction) -> None:
    """The cached head is valid only inside the transaction (and its savepoints) that wrote it."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEAD, None)


def _digest(prev_hash: str, row: AuditRecord | dict[str, Any]) -> str:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    at = get("at")
    assert isinstance(at, dt.datetime)
    payload = {
        "at": at.astimezone(dt.UTC).isoformat(),
        "actor": get("actor"),
        "action": get("action"),
        "object_type": get("object_type"),
        "object_id": get("object_id"),
        "before": get("before"),
        "after": get("after"),
        "inbound_message_id": get("inbound_message_id"),
    }
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + blob).encode("utf-8")).hexdigest()


def record(session: Session, *, actor: str, action: str, object_type: str,
           object_id: str | int | None = None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, inbound_message_id: int | None = None,
           at: dt.datetime | None = None) -> str:
    """Append one audit row in the caller's transaction; return its hash.

    ``before``/``after`` hold states and field names, never identities. The
    row is written with a Core ``INSERT`` (append-only: the ORM's unit of
    work would only add cost on this hot path), batched when the session
    buffers appends (:mod:`store.appends`).
    """
    return record_many(session, [AuditRow(
        actor=actor, action=action, object_type=object_type, object_id=object_id, before=before,
        after=after, inbound_message_id=inbound_message_id, at=at)])[-1]


@dataclass(frozen=True)
class AuditRow:
    """One row for :func:`record_many` (the arguments of :func:`record`)."""

    actor: str
    action: str
    object_type: str
    object_id: str | int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    inbound_message_id: int | None = None
    at: dt.datetime | None = None


def _head(session: Session) -> str:
    """The newest hash of the chain, for this transaction's first append (PostgreSQL: locked)."""
    prev_hash = session.info.get(_HEAD)
    if prev_hash is None:
        if session.get_bind().dialect.name == "postgresql":
            session.connection().execute(_LOCK_SQL, {"k": _LOCK_KEY})
        appends.flush(session, tables=frozenset({AuditRecord.__tablename__}))
        prev_hash = session.connection().execute(_HEAD_QUERY).scalar() or GENESIS
    return str(prev_hash)


def record_many(session: Session, rows: Sequence[AuditRow]) -> list[str]:
    """Append ``rows`` to the chain, in order, with one ``executemany``; return their hashes.

    The hashes are chained here, one after the other, as :func:`record` would
    one row at a time; the rows then go out together (or with the session's
    buffered appends).
    """
    if not rows:
        return []
    prev_hash = _head(session)
    now = dt.datetime.now(dt.UTC)
    values_list: list[dict[str, Any]] = []
    for row in rows:
        values = {
            "at": (row.at or now).replace(microsecond=0), "actor": row.actor,
            "action": row.action, "object_type": row.object_type,
            "object_id": None if row.object_id is None else str(row.object_id),
            "before": row.before, "after": row.after,
            "inbound_message_id": row.inbound_message_id, "prev_hash": prev_hash,
        }
        values["hash"] = prev_hash = _digest(prev_hash, values)
        values_list.append(values)
    appends.add_many(session, _INSERT, values_list)
    session.info[_HEAD] = prev_hash
    return [str(values["hash"]) for values in values_list]


@dataclass(frozen=True)
class ChainBreak:
    """Where the chain is broken and why."""

    audit_id: int
    problem: str


def verify_chain(session: Session, *, batch: int = 5000) -> list[ChainBreak]:
    """Walk the whole chain; return every break found (empty when intact)."""
    breaks: list[ChainBreak] = []
    prev_hash = GENESIS
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.id > last_id).order_by(AuditRecord.id).limit(batch)
        ).all()
        if not rows:
            return breaks
        for row in rows:
            if row.prev_hash != prev_hash:
                breaks.append(ChainBreak(row.id, "maillon précédent manquant ou modifié"))
            if _digest(row.prev_hash, row) != row.hash:
                breaks.append(ChainBreak(row.id, "contenu modifié après écriture"))
            prev_hash = row.hash
            last_id = row.id
