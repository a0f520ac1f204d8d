"""RGPD: remove a person's identity, contact and free text from every table, keeping the figures.

:func:`scrub` is the one place that knows where personal data lives. What it
keeps is what the statistics read: the dates, the status and outcome, the
criteria, the postal code and commune, the referrer's structure, and a birth
date standing for the age band (chosen by the caller, who knows the bands).
Audit rows hold states and field names only (:mod:`store.audit`), so they are
never touched and the hash chain still verifies afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from store import audit
from store.models import (
    AuditRecord,
    Entry,
    EntryEvent,
    EntryStatus,
    InboundMessage,
    OutboxMessage,
    OutboxState,
    Token,
)
from store.models_matching import Proposal
from store.models_recontact import AddressEvent, AddressStatus, CallItem, RecontactRound
from store.models_security import ForgedToken

# Entry columns that say who the person is, how to reach her, or what someone wrote about her.
PERSONAL_COLUMNS: tuple[str, ...] = (
    "nom", "nom_usage", "prenom", "sexe", "ins", "telephone", "email", "adresse", "motif",
    "ancien_medecin", "aidant", "referent_nom", "referent_telephone", "referrer_name",
    "identity_key", "source_message_id",
)
# History detail keys that hold codes, states, dates and field names (everything else goes).
SAFE_DETAIL_KEYS = frozenset({"from", "to", "reason", "fields", "problems", "changed", "outcome",
                              "by", "kind", "state", "proposal", "round", "number", "count"})
DONE = (EntryStatus.RESOLVED.value, EntryStatus.CLOSED.value)
MARKS = ("anonymised", "erased")  # history kinds written by :func:`scrub`
ERASED = "[effacé]"  # stands for an erased address in NOT NULL columns


def inbound_ids(session: Session, entry: Entry) -> list[int]:
    """Every inbound mail about the entry: linked to it, in its history, answers and proposals."""
    ids: set[int] = set(session.scalars(select(InboundMessage.id)
                                        .where(InboundMessage.entry_id == entry.id)))
    for column, key in ((EntryEvent.inbound_message_id, EntryEvent.entry_id),
                        (Proposal.inbound_message_id, Proposal.entry_id),
                        (RecontactRound.answer_inbound_id, RecontactRound.entry_id)):
        ids.update(i for i in session.scalars(select(column).where(key == entry.id)) if i)
    if entry.source_inbound_id:
        ids.add(entry.source_inbound_id)
    return sorted(ids)


def due(session: Session, *, before: dt.datetime, limit: int | None = None) -> list[Entry]:
    """Resolved and closed entries whose outcome is older than ``before``, not yet anonymised."""
    marked = exists().where(EntryEvent.entry_id == Entry.id, EntryEvent.kind.in_(MARKS))
    done_at = func.coalesce(Entry.resolved_at, Entry.status_changed_at)
    query = select(Entry).where(Entry.status.in_(DONE), done_at <= before, ~marked).order_by(Entry.id)
    return list(session.scalars(query if limit is None else query.limit(limit)))


def _safe(detail: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (detail or {}).items() if k in SAFE_DETAIL_KEYS}


def _count(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def scrub(session: Session, entry: Entry, *, now: dt.datetime, birth_stand_in: dt.date | None,
          kind: str, actor: str) -> dict[str, int]:
    """Remove the person's data wherever it is; return how many rows of each kind were touched.

    ``kind`` is ``anonymised`` (retention) or ``erased`` (the person's request).
    The entry keeps its reference, dates, status, criteria and commune; its
    birth date becomes ``birth_stand_in``. A history event and an audit row
    record the operation with counts only.
    """
    assert kind in MARKS
    email = (entry.email or "").lower()
    counts: dict[str, int] = {}
    for column in PERSONAL_COLUMNS:
        setattr(entry, column, None)
    entry.date_naissance = birth_stand_in
    entry.problems = [{"key": p.get("key"), "code": p.get("code")} for p in entry.problems or []]
    entry.updated_at = now
    events = list(session.scalars(select(EntryEvent).where(EntryEvent.entry_id == entry.id)))
    for event in events:
        event.detail = _safe(event.detail)
    counts["history"] = len(events)
    mails = inbound_ids(session, entry)
    for start in range(0, len(mails), 500):
        chunk = mails[start:start + 500]
        session.execute(update(InboundMessage).where(InboundMessage.id.in_(chunk),
                                                     InboundMessage.raw.is_not(None))
                        .values(raw_destroyed_at=now))
        session.execute(update(InboundMessage).where(InboundMessage.id.in_(chunk))
                        .values(raw=None, sender=None))
    counts["inbound"] = len(mails)
    counts["outbox"] = _count(session.execute(
        update(OutboxMessage).where(OutboxMessage.entry_id == entry.id)
        .values(raw=b"", recipients=[], recipient=None)))
    session.execute(update(OutboxMessage).where(OutboxMessage.entry_id == entry.id,
                                                OutboxMessage.state == OutboxState.PENDING.value)
                    .values(state=OutboxState.FAILED.value, last_error="effacé (RGPD)"))
    counts["rounds"] = _count(session.execute(
        update(RecontactRound).where(RecontactRound.entry_id == entry.id)
        .values(address=ERASED, doctor_name=None, answer_text=None)))
    session.execute(update(AddressEvent).where(AddressEvent.entry_id == entry.id)
                    .values(address=ERASED))
    if email and not session.scalar(select(exists().where(func.lower(Entry.email) == email,
                                                          Entry.id != entry.id))):
        session.execute(delete(AddressEvent).where(AddressEvent.address == email))
        session.execute(delete(AddressStatus).where(AddressStatus.address == email))
        # Replayed or forged tokens counted against her address (a block, if any, stays:
        # it protects the service, and lifting it is a coordinator's decision).
        session.execute(delete(ForgedToken).where(func.lower(ForgedToken.address) == email))
    session.execute(update(CallItem).where(CallItem.entry_id == entry.id).values(last_note=None))
    counts["proposals"] = _count(session.execute(
        update(Proposal).where(Proposal.entry_id == entry.id).values(decline_reason=None)))
    session.execute(update(Token).where(Token.entry_id == entry.id)
                    .values(recipient=ERASED, expires_at=now))
    session.add(EntryEvent(entry_id=entry.id, at=now, kind=kind, detail={"count": sum(counts.values())}))
    audit.record(session, actor=actor, action=f"entry.{kind}", object_type="entry",
                 object_id=entry.ref, after=dict(counts), at=now)
    return counts


def audit_rows_about(session: Session, entry: Entry, inbound: Iterable[int]) -> list[AuditRecord]:
    """The audit rows that concern the entry: its own, its proposals', mails' and addresses'."""
    proposals = [str(i) for i in session.scalars(select(Proposal.id)
                                                 .where(Proposal.entry_id == entry.id))]
    outbox = [str(i) for i in session.scalars(select(OutboxMessage.id)
                                              .where(OutboxMessage.entry_id == entry.id))]
    inbound = list(inbound)
    conditions = [AuditRecord.object_id == entry.ref, AuditRecord.object_id == f"entry:{entry.id}"]
    if proposals:
        conditions.append((AuditRecord.object_type == "proposal")
                          & AuditRecord.object_id.in_(proposals))
    if outbox:
        conditions.append((AuditRecord.object_type == "outbox") & AuditRecord.object_id.in_(outbox))
    if inbound:
        conditions.append(AuditRecord.inbound_message_id.in_(inbound))
    return list(session.scalars(select(AuditRecord).where(or_(*conditions))
                                .order_by(AuditRecord.id)))
