"""The coordinators' call list: patients the bot could not reach by mail.

An entry goes on the list (one open item at a time) when it has no e-mail,
when its address fails, or after unanswered recontact rounds. Adding it
raises a ``call_list`` alert (the digest shows it); closing the item resolves
that alert. Phone outcomes are recorded with :func:`record_call`.

Public API for the digest and statistics (issue 7): :func:`call_list`,
:func:`counts`, :func:`outcome_counts`, :data:`REASON_LABELS`,
:data:`OUTCOME_LABELS`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store import audit, recontact
from store.alerts import raise_alert
from store.models import OPEN_STATUSES, Alert, Entry, EntryEvent
from store.models_recontact import CallItem, CallOutcome, CallReason

ALERT_KIND = "call_list"

REASON_LABELS: dict[str, str] = {
    CallReason.NO_EMAIL: "pas d'adresse e-mail",
    CallReason.ADDRESS_FAILING: "adresse e-mail en échec",
    CallReason.NO_ANSWER: "pas de réponse au recontact",
}
OUTCOME_LABELS: dict[str, str] = {
    CallOutcome.STILL_LOOKING: "toujours à la recherche",
    CallOutcome.FOUND: "a trouvé un médecin",
    CallOutcome.UNREACHABLE: "injoignable",
    CallOutcome.WRONG_NUMBER: "numéro erroné",
    CallOutcome.ANSWERED_BY_MAIL: "a répondu par mail",
    CallOutcome.ENTRY_LEFT: "inscription sortie de la liste d'attente",
}
PHONE_OUTCOMES = (CallOutcome.STILL_LOOKING, CallOutcome.FOUND, CallOutcome.UNREACHABLE,
                  CallOutcome.WRONG_NUMBER)


@dataclass(frozen=True)
class CallListRow:
    """One line of the call list, with what a coordinator needs to phone.

    Identity and phone are here because the list is shown to coordinators
    (CLI, digest over MSSanté) — never log these rows.
    """

    item_id: int
    entry_id: int
    ref: str
    status: str
    reason: str
    reason_label: str
    detail: str | None
    added_at: dt.datetime
    attempts: int
    last_outcome: str | None
    last_called_at: dt.datetime | None
    closed_at: dt.datetime | None
    outcome: str | None
    nom: str | None
    prenom: str | None
    telephone: str | None
    email: str | None
    aidant: str | None
    confirmed_at: dt.datetime | None


def open_item(session: Session, entry_id: int) -> CallItem | None:
    """The entry's open call-list item, if any."""
    return session.scalars(
        select(CallItem).where(CallItem.entry_id == entry_id, CallItem.closed_at.is_(None))
        .order_by(CallItem.id.desc()).limit(1)
    ).first()


def entries_on_list(session: Session) -> set[int]:
    """Ids of entries with an open item (one query, for a whole round)."""
    return set(session.scalars(select(CallItem.entry_id).where(CallItem.closed_at.is_(None))))


def add(session: Session, entry: Entry, reason: CallReason, *, now: dt.datetime,
        detail: str | None = None, actor: str = "system",
        inbound_id: int | None = None) -> tuple[CallItem, bool]:
    """Put ``entry`` on the call list; return (item, created). An open item is reused."""
    existing = open_item(session, entry.id)
    if existing is not None:
        return existing, False
    item = CallItem(entry_id=entry.id, reason=reason, detail=detail, added_at=now, attempts=0)
    session.add(item)
    session.add(EntryEvent(entry_id=entry.id, at=now, kind="call_list", inbound_message_id=inbound_id,
                           detail={"reason": str(reason), "detail": detail}))
    audit.record(session, actor=actor, action="call.add", object_type="entry", object_id=entry.ref,
                 after={"reason": str(reason)}, inbound_message_id=inbound_id, at=now)
    raise_alert(session, kind=ALERT_KIND, now=now, entry_id=entry.id,
                reason=f"à appeler : {REASON_LABELS[reason]}")
    return item, True


def _resolve_alert(session: Session, entry_id: int, now: dt.datetime) -> None:
    for alert in session.scalars(select(Alert).where(Alert.kind == ALERT_KIND,
                                                     Alert.entry_id == entry_id,
                                                     Alert.resolved_at.is_(None))):
        alert.resolved_at = now


def close(session: Session, item: CallItem, outcome: CallOutcome, *, now: dt.datetime,
          by: str = "system") -> None:
    """Take an item off the list with its final outcome."""
    item.closed_at = now
    item.outcome = outcome
    item.closed_by = by
    _resolve_alert(session, item.entry_id, now)


def close_for_entry(session: Session, entry_id: int, outcome: CallOutcome, *, now: dt.datetime,
                    by: str = "system") -> bool:
    """Close the entry's open item, if any (a mail answer came, the entry left)."""
    item = open_item(session, entry_id)
    if item is None:
        return False
    close(session, item, outcome, now=now, by=by)
    return True


def record_call(session: Session, entry: Entry, outcome: CallOutcome, *, now: dt.datetime,
                actor: str, note: str | None = None, doctor_name: str | None = None) -> CallItem:
    """Record a phone call's outcome on the entry's open item and apply it.

    ``still_looking`` confirms the entry and closes the item; ``found``
    resolves the entry (« a trouvé un médecin ») and closes it;
    ``unreachable`` and ``wrong_number`` keep it open for another try
    (``wrong_number`` also raises an alert: check the number with the
    referrer). Raises :class:`LookupError` when the entry is not on the list.
    """
    item = open_item(session, entry.id)
    if item is None:
        raise LookupError(entry.ref)
    item.attempts = (item.attempts or 0) + 1
    item.last_outcome = outcome
    item.last_called_at = now
    item.last_note = note
    session.add(EntryEvent(entry_id=entry.id, at=now, kind="call",
                           detail={"outcome": str(outcome), "note": note, "by": actor}))
    audit.record(session, actor=actor, action="call.record", object_type="entry",
                 object_id=entry.ref, after={"outcome": str(outcome), "attempt": item.attempts},
                 at=now)
    if outcome is CallOutcome.STILL_LOOKING:
        recontact.confirm(session, entry, now=now, by="téléphone", actor=actor)
        close(session, item, outcome, now=now, by=actor)
    elif outcome is CallOutcome.FOUND:
        recontact.resolve_found(session, entry, now=now, by="téléphone", doctor_name=doctor_name,
                                actor=actor)
        close(session, item, outcome, now=now, by=actor)
    elif outcome is CallOutcome.WRONG_NUMBER:
        raise_alert(session, kind="call_wrong_number", now=now, entry_id=entry.id,
                    reason="numéro de téléphone erroné : vérifier les coordonnées auprès du référent")
    return item


def call_list(session: Session, *, include_closed: bool = False,
              since: dt.datetime | None = None) -> list[CallListRow]:
    """The call list, least recently tried first (never called before called; oldest first).

    Only entries still open are listed; with ``include_closed`` closed items
    (since ``since``) are listed after the open ones, for history.
    """
    query = select(CallItem, Entry).join(Entry, Entry.id == CallItem.entry_id)
    if include_closed:
        if since is not None:
            query = query.where((CallItem.closed_at.is_(None)) | (CallItem.closed_at >= since))
    else:
        query = query.where(CallItem.closed_at.is_(None), Entry.status.in_(OPEN_STATUSES))
    rows = [_row(item, entry) for item, entry in session.execute(query)]
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    rows.sort(key=lambda r: (r.closed_at is not None, r.last_called_at is not None,
                             r.last_called_at or epoch, r.added_at, r.item_id))
    return rows


def _row(item: CallItem, entry: Entry) -> CallListRow:
    return CallListRow(
        item_id=item.id, entry_id=entry.id, ref=entry.ref, status=entry.status,
        reason=item.reason, reason_label=REASON_LABELS.get(item.reason, item.reason),
        detail=item.detail, added_at=item.added_at, attempts=item.attempts or 0,
        last_outcome=item.last_outcome, last_called_at=item.last_called_at,
        closed_at=item.closed_at, outcome=item.outcome, nom=entry.nom_usage or entry.nom,
        prenom=entry.prenom, telephone=entry.telephone, email=entry.email, aidant=entry.aidant,
        confirmed_at=entry.confirmed_at,
    )


def counts(session: Session) -> dict[str, int]:
    """Open items by reason (entries still open only)."""
    query = (select(CallItem.reason, func.count()).join(Entry, Entry.id == CallItem.entry_id)
             .where(CallItem.closed_at.is_(None), Entry.status.in_(OPEN_STATUSES))
             .group_by(CallItem.reason))
    return {reason: int(n) for reason, n in session.execute(query)}


def outcome_counts(session: Session, *, since: dt.datetime | None = None) -> dict[str, int]:
    """Closed items by final outcome, optionally closed since ``since``."""
    query = (select(CallItem.outcome, func.count()).where(CallItem.closed_at.is_not(None))
             .group_by(CallItem.outcome))
    if since is not None:
        query = query.where(CallItem.closed_at >= since)
    return {str(outcome): int(n) for outcome, n in session.execute(query)}
