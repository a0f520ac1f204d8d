"""Recontact rounds and patients' confirmations ("still looking on dd/mm/yyyy").

A round is opened when the question mail is enqueued, gets a reminder, and is
closed by an answer, a bounce, the lack of an answer, or the entry leaving the
asked statuses. :func:`confirm` and :func:`resolve_found` are the two effects
of a decided answer, shared by mail answers and phone calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from store import audit, entries
from store.models import Entry, EntryEvent, EntryStatus
from store.models_recontact import RecontactRound, RoundOutcome

FOUND_REASON = "a trouvé un médecin"
_PARIS = ZoneInfo("Europe/Paris")


def confirmation_note(by: str, at: dt.datetime) -> str:
    """``confirmé par le patient le 01/12/2026`` (``by``: ``le patient``, ``téléphone``…)."""
    return f"confirmé par {by} le {at.astimezone(_PARIS).strftime('%d/%m/%Y')}"


def open_round(session: Session, entry_id: int) -> RecontactRound | None:
    """The entry's round still waiting for an outcome, if any."""
    return session.scalars(
        select(RecontactRound).where(RecontactRound.entry_id == entry_id,
                                     RecontactRound.closed_at.is_(None))
        .order_by(RecontactRound.id.desc()).limit(1)
    ).first()


def latest_round(session: Session, entry_id: int) -> RecontactRound | None:
    """The entry's newest round, open or closed."""
    return session.scalars(
        select(RecontactRound).where(RecontactRound.entry_id == entry_id)
        .order_by(RecontactRound.id.desc()).limit(1)
    ).first()


def round_of_message(session: Session, message_ids: Sequence[str]) -> RecontactRound | None:
    """The round whose question or reminder has one of ``message_ids`` (with ``<>``)."""
    if not message_ids:
        return None
    ids = list(message_ids)
    return session.scalars(
        select(RecontactRound).where(or_(RecontactRound.first_message_id.in_(ids),
                                         RecontactRound.reminder_message_id.in_(ids)))
        .order_by(RecontactRound.id.desc()).limit(1)
    ).first()


def answer_of(session: Session, inbound_id: int) -> RecontactRound | None:
    """The round a mail answered (digest: ``answer_text`` of an escalated, unclear answer)."""
    return session.scalars(
        select(RecontactRound).where(RecontactRound.answer_inbound_id == inbound_id).limit(1)
    ).first()


def start_round(session: Session, *, entry_id: int, address: str, message_id: str,
                now: dt.datetime, number: int) -> RecontactRound:
    """Open a round for a question mail just enqueued (no flush: rounds are written in bulk)."""
    row = RecontactRound(entry_id=entry_id, number=number, address=address.lower(),
                         opened_at=now, first_message_id=message_id, unanswered_streak=0,
                         acknowledged=False, auto_replies=0)
    session.add(row)
    return row


def close_round(row: RecontactRound, outcome: RoundOutcome, *, now: dt.datetime,
                streak: int = 0) -> None:
    """End a round; ``streak`` counts unanswered rounds in a row including this one."""
    row.closed_at = now
    row.outcome = outcome
    row.unanswered_streak = streak


def previous_streak(session: Session, entry_id: int, before_id: int,
                    confirmed_at: dt.datetime | None) -> int:
    """Unanswered rounds in a row just before round ``before_id`` (reset by a confirmation)."""
    previous = session.scalars(
        select(RecontactRound).where(RecontactRound.entry_id == entry_id,
                                     RecontactRound.id < before_id)
        .order_by(RecontactRound.id.desc()).limit(1)
    ).first()
    if previous is None or previous.outcome != RoundOutcome.NO_ANSWER:
        return 0
    if confirmed_at is not None and confirmed_at >= previous.opened_at:
        return 0
    return previous.unanswered_streak or 0


def last_asked(session: Session, entry_ids: Iterable[int] | None = None) -> dict[int, tuple[int, dt.datetime]]:
    """For each entry with rounds: (number of its newest round, when that round opened)."""
    query = select(RecontactRound.entry_id, func.max(RecontactRound.number),
                   func.max(RecontactRound.opened_at)).group_by(RecontactRound.entry_id)
    if entry_ids is not None:
        query = query.where(RecontactRound.entry_id.in_(list(entry_ids)))
    return {int(e): (int(n), opened) for e, n, opened in session.execute(query)}


def entries_with_open_round(session: Session) -> set[int]:
    """Ids of entries whose round is still open."""
    return set(session.scalars(
        select(RecontactRound.entry_id).where(RecontactRound.closed_at.is_(None))))


def confirm(session: Session, entry: Entry, *, now: dt.datetime, by: str,
            inbound_id: int | None = None, actor: str = "system") -> str:
    """Record that the patient still looks for a doctor (``confirmed_at``); return the note."""
    note = confirmation_note(by, now)
    entry.confirmed_at = now
    entry.updated_at = now
    session.add(EntryEvent(entry_id=entry.id, at=now, kind="confirmed",
                           inbound_message_id=inbound_id, detail={"by": by, "note": note}))
    audit.record(session, actor=actor, action="entry.confirmed", object_type="entry",
                 object_id=entry.ref, after={"confirmed_at": now.isoformat(), "by": by},
                 inbound_message_id=inbound_id, at=now)
    return note


def opt_out(session: Session, entry: Entry, *, now: dt.datetime, by: str,
            inbound_id: int | None = None, actor: str = "system") -> None:
    """The patient asked not to be written to: no more recontact mails (history and audit)."""
    if entry.recontact_opt_out_at is not None:
        return
    entry.recontact_opt_out_at = now
    entry.updated_at = now
    session.add(EntryEvent(entry_id=entry.id, at=now, kind="recontact_opt_out",
                           inbound_message_id=inbound_id, detail={"by": by}))
    audit.record(session, actor=actor, action="entry.recontact_opt_out", object_type="entry",
                 object_id=entry.ref, after={"recontact_opt_out_at": now.isoformat(), "by": by},
                 inbound_message_id=inbound_id, at=now)


def resolve_found(session: Session, entry: Entry, *, now: dt.datetime, by: str,
                  doctor_name: str | None = None, inbound_id: int | None = None,
                  actor: str = "system") -> None:
    """The patient found a doctor: ``resolved`` with reason « a trouvé un médecin ».

    The doctor's name, when given, is kept in the history event (the
    resolution reason stays the same for every such entry, for statistics).
    """
    entries.set_status(session, entry, EntryStatus.RESOLVED, now=now, reason=FOUND_REASON,
                       actor=actor, inbound_id=inbound_id)
    session.add(EntryEvent(entry_id=entry.id, at=now, kind="found_doctor",
                           inbound_message_id=inbound_id,
                           detail={"by": by, "doctor_name": doctor_name}))


@dataclass(frozen=True)
class Confirmation:
    """One confirmation, for the digest and statistics."""

    entry_id: int
    ref: str
    at: dt.datetime
    by: str


def confirmations(session: Session, *, since: dt.datetime | None = None) -> list[Confirmation]:
    """Confirmations recorded (by mail or phone), oldest first."""
    query = (select(EntryEvent, Entry.ref).join(Entry, Entry.id == EntryEvent.entry_id)
             .where(EntryEvent.kind == "confirmed").order_by(EntryEvent.id))
    if since is not None:
        query = query.where(EntryEvent.at >= since)
    return [Confirmation(event.entry_id, ref, event.at, str(event.detail.get("by", "")))
            for event, ref in session.execute(query)]


def round_counts(session: Session, *, since: dt.datetime | None = None) -> dict[str, int]:
    """Rounds opened since ``since`` by outcome (``open`` for those still waiting)."""
    query = select(RecontactRound.outcome, func.count()).group_by(RecontactRound.outcome)
    if since is not None:
        query = query.where(RecontactRound.opened_at >= since)
    return {(outcome or "open"): int(n) for outcome, n in session.execute(query)}
