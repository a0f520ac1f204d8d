"""Writing a chunk of new entries at once: a few multi-row statements instead of seven a row.

An import creates tens of thousands of entries. :func:`store.entries.create_entry`
(a reference check, an ORM flush, a history event and an audit row, each its
own statement) costs some fifteen milliseconds a row; here a chunk of rows is
written with one ``INSERT`` of every entry (``RETURNING`` their ids), one
``executemany`` of their history events, and their audit rows appended to the
hash chain through :func:`store.audit.record`, in the order they were created,
all in the caller's transaction. The rows written are exactly those
``create_entry`` and then ``set_status`` (patients who already left) write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from store import audit
from store.entries import BOOLEAN_COLUMNS, FIELD_COLUMNS, identity_key
from store.models import Entry, EntryEvent, EntryStatus
from store.refs import new_entry_ref

_INSERT_ENTRIES = insert(Entry).returning(Entry.id, Entry.ref)
_INSERT_EVENTS = insert(EntryEvent)
_FREE_TRIES = 20


@dataclass
class NewEntry:
    """One entry to create: what ``create_entry`` takes, plus the status it leaves in.

    ``status`` is the status it is created with (open: ``waiting`` or
    ``incomplete``); ``final_status``, when set, the status it then moves to at
    ``final_at`` with ``final_reason`` (resolved or closed: a patient who
    already left), as ``set_status`` would. ``extra_events`` are added after
    the creation event (kind, detail). ``ref`` and ``id`` are filled in by
    :func:`write_entries`.
    """

    fields: Mapping[str, Any]
    status: EntryStatus
    problems: list[dict[str, Any]]
    received_at: dt.datetime
    referrer_email: str | None = None
    referrer_name: str | None = None
    final_status: EntryStatus | None = None
    final_at: dt.datetime | None = None
    final_reason: str | None = None
    keep_resolved_at: bool = True
    extra_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ref: str | None = None
    id: int | None = None


def free_refs(session: Session, count: int) -> list[str]:
    """``count`` fresh entry references, distinct and unused (checked in one query a try)."""
    chosen: set[str] = set()
    for _ in range(_FREE_TRIES):
        wanted = count - len(chosen)
        if wanted <= 0:
            break
        candidates = {new_entry_ref() for _ in range(wanted)} - chosen
        taken = set(session.connection().execute(
            select(Entry.ref).where(Entry.ref.in_(sorted(candidates)))).scalars())
        chosen |= candidates - taken
    if len(chosen) < count:  # pragma: no cover - 30 random bits, twenty tries
        raise RuntimeError("no free entry references")
    return list(chosen)


def _entry_row(new: NewEntry, ref: str, now: dt.datetime) -> dict[str, Any]:
    values: dict[str, Any] = {key: None for key in FIELD_COLUMNS}
    values.update({k: False for k in BOOLEAN_COLUMNS if k != "consentement"})
    for key, value in new.fields.items():
        if key in FIELD_COLUMNS and value is not None and value != "":
            values[key] = value
    status, changed_at = new.status, now
    resolved_at: dt.datetime | None = None
    resolution = closed_reason = None
    if new.final_status is not None:
        status, changed_at = new.final_status, new.final_at or now
        if new.final_status in (EntryStatus.RESOLVED, EntryStatus.CLOSED):
            resolved_at = changed_at if new.keep_resolved_at else None
            if new.final_status is EntryStatus.RESOLVED:
                resolution = new.final_reason
            else:
                closed_reason = new.final_reason
    values.update(
        ref=ref, status=status.value, received_at=new.received_at, created_at=now,
        updated_at=changed_at, status_changed_at=changed_at, referrer_email=new.referrer_email,
        referrer_name=new.referrer_name, source_message_id=None, source_inbound_id=None,
        problems=[dict(p) for p in new.problems], priority=False, confirmed_at=None,
        resolved_at=resolved_at, resolution=resolution, closed_reason=closed_reason,
        identity_key=identity_key(values["nom"], values["prenom"], values["date_naissance"]),
    )
    return values


def write_entries(session: Session, chunk: Iterable[NewEntry], *, now: dt.datetime,
                  actor: str) -> None:
    """Create every entry of ``chunk`` in the caller's transaction; fill in their ``ref`` and ``id``.

    History (``created``, the extra events, ``status``) and audit rows
    (``entry.create``, ``entry.status``) are those of ``create_entry`` and
    ``set_status``, in the same order, entry after entry.
    """
    news = list(chunk)
    if not news:
        return
    refs = free_refs(session, len(news))
    rows = [_entry_row(new, ref, now) for new, ref in zip(news, refs, strict=True)]
    connection = session.connection()
    ids = {ref: ident for ident, ref in connection.execute(_INSERT_ENTRIES, rows)}
    events: list[dict[str, Any]] = []
    for new, ref in zip(news, refs, strict=True):
        new.ref, new.id = ref, ids[ref]
        events.append({"entry_id": new.id, "at": now, "kind": "created", "inbound_message_id": None,
                       "detail": {"fields": sorted(k for k in new.fields if k in FIELD_COLUMNS),
                                  "problems": [p["key"] for p in new.problems]}})
        events.extend({"entry_id": new.id, "at": now, "kind": kind, "inbound_message_id": None,
                       "detail": detail} for kind, detail in new.extra_events)
        if new.final_status is not None:
            events.append({"entry_id": new.id, "at": new.final_at or now, "kind": "status",
                           "inbound_message_id": None,
                           "detail": {"from": str(new.status), "to": str(new.final_status),
                                      "reason": new.final_reason}})
    connection.execute(_INSERT_EVENTS, events)
    for new in news:
        audit.record(session, actor=actor, action="entry.create", object_type="entry",
                     object_id=new.ref, after={"status": str(new.status)}, at=now)
        if new.final_status is not None:
            audit.record(session, actor=actor, action="entry.status", object_type="entry",
                         object_id=new.ref, before={"status": str(new.status)},
                         after={"status": str(new.final_status), "reason": new.final_reason},
                         at=new.final_at or now)
