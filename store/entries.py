"""Waitlist entries: creation, duplicate detection, field merges and status changes."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from store import appends, audit
from store.models import OPEN_STATUSES, Entry, EntryEvent, EntryStatus
from store.refs import new_entry_ref

# Canonical field columns of :class:`Entry` (spec/referral-form.md).
FIELD_COLUMNS: tuple[str, ...] = (
    "nom", "nom_usage", "prenom", "date_naissance", "sexe", "ins", "telephone", "email",
    "adresse", "code_postal", "commune", "ald", "css", "ame", "mobilite_reduite",
    "situation_complexe", "urgent", "motif", "ancien_medecin", "aidant", "consentement",
    "referent_nom", "referent_structure", "referent_telephone",
)
_INSERT_EVENT = insert(EntryEvent)
_INSERT_ENTRY = {  # a reference already taken inserts nothing and returns no row
    "sqlite": sqlite_insert(Entry).on_conflict_do_nothing(index_elements=["ref"])
    .returning(Entry.id),
    "postgresql": postgresql_insert(Entry).on_conflict_do_nothing(index_elements=["ref"])
    .returning(Entry.id),
}
_ENTRY_COLUMNS = [column for column in Entry.__table__.columns if column.key != "id"]
_OPEN_SAME_PATIENT = (
    select(Entry.id, Entry.ins)
    .where(or_(Entry.ins == bindparam("ins"), Entry.identity_key == bindparam("key")),
           Entry.status.in_(sorted(OPEN_STATUSES)))
    .order_by(Entry.id)
)
BOOLEAN_COLUMNS = frozenset(
    {"ald", "css", "ame", "mobilite_reduite", "situation_complexe", "urgent", "consentement"}
)


_NOT_LETTER = re.compile(r"[^A-Z]")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_LETTER.sub("", plain.upper())


def identity_key(nom: str | None, prenom: str | None, date_naissance: dt.date | None) -> str | None:
    """``NOM|PRENOM|YYYY-MM-DD`` without accents, spaces or punctuation; ``None`` when incomplete."""
    if not nom or not prenom or not date_naissance:
        return None
    return f"{_fold(nom)}|{_fold(prenom)}|{date_naissance.isoformat()}"


def jsonable(value: Any) -> Any:
    """A field value as JSON (dates as ISO strings)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def find_open_duplicate(session: Session, fields: Mapping[str, Any]) -> Entry | None:
    """The open entry of the same patient: same INS, else same name + first name + birth date."""
    ins = fields.get("ins")
    key = identity_key(fields.get("nom"), fields.get("prenom"), fields.get("date_naissance"))
    if not ins and key is None:
        return None
    if any(isinstance(obj, Entry) for obj in (*session.new, *session.dirty)):
        session.flush()  # statuses changed in this transaction must count (Core query below)
    rows = session.connection().execute(_OPEN_SAME_PATIENT, {"ins": ins or None, "key": key}).all()
    if not rows:
        return None
    by_ins = [ident for ident, found_ins in rows if ins and found_ins == ins]
    return session.get(Entry, (by_ins or [rows[0][0]])[0])


def add_event(session: Session, entry: Entry, *, now: dt.datetime, kind: str,
              detail: dict[str, Any], inbound_id: int | None = None) -> None:
    """Append one history event to an entry (Core insert: history is append-only)."""
    appends.add(session, _INSERT_EVENT, {"entry_id": entry.id, "at": now, "kind": kind,
                                         "inbound_message_id": inbound_id, "detail": detail})
    if "events" in entry.__dict__:  # keep an already-loaded history in step
        session.expire(entry, ["events"])


def get_by_ref(session: Session, ref: str) -> Entry | None:
    """The entry with that reference, or ``None``."""
    return session.scalars(select(Entry).where(Entry.ref == ref)).first()


def _apply_fields(entry: Entry, fields: Mapping[str, Any]) -> list[str]:
    changed = []
    for key, value in fields.items():
        if key not in FIELD_COLUMNS or value is None or value == "":
            continue
        if getattr(entry, key) != value:
            setattr(entry, key, value)
            changed.append(key)
    entry.identity_key = identity_key(entry.nom, entry.prenom, entry.date_naissance)
    return changed


def _insert_as_loaded(session: Session, entry: Entry) -> None:
    """INSERT a new entry with one Core statement and attach it to the session as loaded.

    The ORM's unit of work (``session.add`` + ``flush``) costs about half a millisecond
    per entry, most of an intake's database time. Every column gets its value (defaults
    applied here), so nothing is left to load back, and the reference is drawn again in
    the rare case it is already taken (``ON CONFLICT DO NOTHING`` returns no row).
    """
    values: dict[str, Any] = {}
    for column in _ENTRY_COLUMNS:
        value = entry.__dict__.get(column.key)
        if value is None and column.default is not None and column.default.is_scalar:
            value = column.default.arg
        elif value is None and column.default is not None and column.default.is_callable:
            value = column.default.arg(None)
        if entry.__dict__.get(column.key) is None:  # every column loaded: none expires
            setattr(entry, column.key, value)
        if value is not None:  # NULL columns are left out: fewer parameters to bind
            values[column.key] = value
    insert_entry = _INSERT_ENTRY[session.get_bind().dialect.name]
    connection = session.connection()
    for _ in range(20):
        ident = connection.execute(insert_entry, values).scalar()
        if ident is not None:
            break
        values["ref"] = entry.ref = new_entry_ref()
    else:  # pragma: no cover - 30 random bits, twenty tries
        raise IntegrityError("no free entry reference", None, Exception())
    entry.id = ident
    make_transient_to_detached(entry)  # as if just loaded: no pending change, no history
    session.add(entry)


def create_entry(session: Session, *, fields: Mapping[str, Any], status: EntryStatus,
                 problems: Iterable[Mapping[str, Any]], now: dt.datetime,
                 received_at: dt.datetime | None = None, referrer_email: str | None = None,
                 referrer_name: str | None = None, source_message_id: str | None = None,
                 inbound_id: int | None = None, actor: str = "system") -> Entry:
    """Create an entry with a fresh unique reference, its first history event and audit row."""
    entry = Entry(
        ref=new_entry_ref(), status=status, received_at=received_at or now, created_at=now,
        updated_at=now,
        status_changed_at=now, referrer_email=referrer_email, referrer_name=referrer_name,
        source_message_id=source_message_id, source_inbound_id=inbound_id,
        problems=[dict(p) for p in problems],
        **{k: False for k in BOOLEAN_COLUMNS if k != "consentement"},
    )
    _apply_fields(entry, fields)
    _insert_as_loaded(session, entry)
    add_event(session, entry, now=now, kind="created", inbound_id=inbound_id,
              detail={"fields": sorted(k for k in fields if k in FIELD_COLUMNS),
                      "problems": [p["key"] for p in entry.problems]})
    audit.record(session, actor=actor, action="entry.create", object_type="entry",
                 object_id=entry.ref, after={"status": str(status)}, inbound_message_id=inbound_id,
                 at=now)
    return entry


def merge_fields(session: Session, entry: Entry, fields: Mapping[str, Any], *, now: dt.datetime,
                 kind: str, inbound_id: int | None = None, overwrite: bool = False,
                 actor: str = "system") -> list[str]:
    """Merge new information into an entry's history; return the keys that changed.

    Without ``overwrite`` only empty fields are filled (a duplicate referral
    must not silently replace what a coordinator checked); every value sent is
    kept in the history event either way.
    """
    sent = {k: jsonable(v) for k, v in fields.items() if k in FIELD_COLUMNS}
    if overwrite:
        applied = dict(fields)
    else:
        applied = {k: v for k, v in fields.items()
                   if k in FIELD_COLUMNS and (getattr(entry, k) in (None, "") or
                                              (k in BOOLEAN_COLUMNS and v is True))}
    changed = _apply_fields(entry, applied)
    entry.updated_at = now
    add_event(session, entry, now=now, kind=kind, inbound_id=inbound_id,
              detail={"sent": sent, "changed": changed})
    audit.record(session, actor=actor, action=f"entry.{kind}", object_type="entry",
                 object_id=entry.ref, after={"changed": changed}, inbound_message_id=inbound_id,
                 at=now)
    return changed


def set_status(session: Session, entry: Entry, status: EntryStatus, *, now: dt.datetime,
               reason: str | None = None, actor: str = "system",
               inbound_id: int | None = None) -> None:
    """Move an entry to ``status``, with a history event and an audit row."""
    before = entry.status
    entry.status = status
    entry.status_changed_at = now
    entry.updated_at = now
    if status == EntryStatus.RESOLVED:
        entry.resolved_at = now
        entry.resolution = reason
    elif status == EntryStatus.CLOSED:
        entry.resolved_at = now
        entry.closed_reason = reason
    add_event(session, entry, now=now, kind="status", inbound_id=inbound_id,
              detail={"from": before, "to": str(status), "reason": reason})
    audit.record(session, actor=actor, action="entry.status", object_type="entry",
                 object_id=entry.ref, before={"status": before},
                 after={"status": str(status), "reason": reason}, inbound_message_id=inbound_id,
                 at=now)


def entry_fields(entry: Entry) -> dict[str, Any]:
    """The known canonical fields of an entry (``None`` left out)."""
    return {k: getattr(entry, k) for k in FIELD_COLUMNS if getattr(entry, k) is not None}


def export_row(entry: Entry) -> dict[str, Any]:
    """One element of ``mailbot entries export`` (spec/referral-form.md, export contract)."""
    row: dict[str, Any] = {
        "ref": entry.ref,
        "status": entry.status,
        "received_at": entry.received_at.isoformat(),
        "referrer_email": entry.referrer_email,
        "source_message_id": entry.source_message_id,
        "problems": list(dict.fromkeys(p["key"] for p in entry.problems)),
    }
    for key, value in entry_fields(entry).items():
        row[key] = jsonable(value)
    for extra in ("resolved_at", "confirmed_at"):
        value = getattr(entry, extra)
        if value is not None:
            row[extra] = value.isoformat()
    if entry.resolution:
        row["resolution"] = entry.resolution
    if entry.closed_reason:
        row["closed_reason"] = entry.closed_reason
    return row
