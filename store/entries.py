"""Waitlist entries: creation (one way, :func:`create_many`, for intake, import and batches),
duplicate detection, field merges and status changes."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
_INSERT_ENTRIES = {  # a reference already taken inserts nothing and returns no row
    "sqlite": sqlite_insert(Entry).on_conflict_do_nothing(index_elements=["ref"])
    .returning(Entry.id, Entry.ref),
    "postgresql": postgresql_insert(Entry).on_conflict_do_nothing(index_elements=["ref"])
    .returning(Entry.id, Entry.ref),
}
_FREE_TRIES = 20  # fresh references drawn at most, each with 30 random bits
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


def find_open_duplicates(session: Session, many: Sequence[Mapping[str, Any]]
                         ) -> list[Entry | None]:
    """:func:`find_open_duplicate` for each of ``many`` (a batch), with one query for all."""
    wanted = [(f.get("ins") or None, identity_key(f.get("nom"), f.get("prenom"),
                                                  f.get("date_naissance"))) for f in many]
    ins_values = sorted({ins for ins, _ in wanted if ins})
    keys = sorted({key for _, key in wanted if key})
    if not ins_values and not keys:
        return [None] * len(many)
    if any(isinstance(obj, Entry) for obj in (*session.new, *session.dirty)):
        session.flush()
    # One indexed look-up per column, the status checked here: with the status in the WHERE
    # clause SQLite walks the status index, i.e. every open entry of the waitlist.
    columns = (Entry.id, Entry.ins, Entry.identity_key, Entry.status)
    found_rows = {row[0]: row for column, values in ((Entry.ins, ins_values),
                                                     (Entry.identity_key, keys)) if values
                  for row in session.execute(select(*columns).where(column.in_(values)))}
    rows = [found_rows[ident][:3] for ident in sorted(found_rows)
            if found_rows[ident][3] in OPEN_STATUSES]
    by_ins: dict[str, int] = {}
    by_key: dict[str, int] = {}
    for ident, ins, key in rows:
        if ins:
            by_ins.setdefault(ins, ident)
        if key:
            by_key.setdefault(key, ident)
    found = [by_ins.get(ins or "") or by_key.get(key or "") for ins, key in wanted]
    return [session.get(Entry, ident) if ident else None for ident in found]


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


@dataclass
class NewEntry:
    """One entry to create with :func:`create_many`, and the status it leaves in.

    ``status`` is the status it is created with (open: ``waiting`` or
    ``incomplete``); ``final_status``, when set, the status it then moves to at
    ``final_at`` with ``final_reason`` (resolved or closed: an imported patient
    who already left), as :func:`set_status` would. ``extra_events`` are added
    after the creation event (kind, detail). ``ref`` and ``id`` are filled in
    by :func:`create_many`.
    """

    fields: Mapping[str, Any]
    status: EntryStatus
    problems: Iterable[Mapping[str, Any]] = ()
    received_at: dt.datetime | None = None
    referrer_email: str | None = None
    referrer_name: str | None = None
    source_message_id: str | None = None
    inbound_id: int | None = None
    final_status: EntryStatus | None = None
    final_at: dt.datetime | None = None
    final_reason: str | None = None
    keep_resolved_at: bool = True
    extra_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ref: str | None = None
    id: int | None = None


def _column_default(column: Any) -> Any:
    default = column.default
    if default is None:
        return None
    return default.arg if default.is_scalar else default.arg(None) if default.is_callable else None


def _fixed_defaults() -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """The defaults every new row starts from: fixed values, and callables drawn per row."""
    fixed: dict[str, Any] = {}
    called: list[tuple[str, Any]] = []
    for column in _ENTRY_COLUMNS:
        default = column.default
        if default is not None and default.is_callable:
            called.append((column.key, lambda arg=default.arg: arg(None)))
        else:
            fixed[column.key] = _column_default(column)
    fixed.update({key: None for key in FIELD_COLUMNS})
    fixed.update({key: False for key in BOOLEAN_COLUMNS if key != "consentement"})
    called = [(key, fn) for key, fn in called if key not in fixed]
    return fixed, called


_FIXED_DEFAULTS, _CALLED_DEFAULTS = _fixed_defaults()


def _entry_row(new: NewEntry, now: dt.datetime) -> dict[str, Any]:
    """Every column of the new entry's row (defaults applied), with a fresh reference."""
    values = {key: default() for key, default in _CALLED_DEFAULTS}
    values.update(_FIXED_DEFAULTS)
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
        ref=new_entry_ref(), status=status, received_at=new.received_at or now, created_at=now,
        updated_at=changed_at, status_changed_at=changed_at, referrer_email=new.referrer_email,
        referrer_name=new.referrer_name, source_message_id=new.source_message_id,
        source_inbound_id=new.inbound_id, problems=[dict(p) for p in new.problems],
        resolved_at=resolved_at, resolution=resolution, closed_reason=closed_reason,
        identity_key=identity_key(values["nom"], values["prenom"], values["date_naissance"]),
    )
    return values


def _insert_rows(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """INSERT the rows (one ``executemany``); a reference already taken, in the table or by an
    earlier row of the same call, is drawn again. Return the ids, in the rows' order."""
    statement = _INSERT_ENTRIES[session.get_bind().dialect.name]
    connection = session.connection()
    ids: dict[str, int] = {}
    pending = list(range(len(rows)))
    for _ in range(_FREE_TRIES):
        seen: set[str] = set(ids)
        for index in pending:  # distinct references inside the call
            while rows[index]["ref"] in seen:
                rows[index]["ref"] = new_entry_ref()
            seen.add(rows[index]["ref"])
        batch = [rows[index] for index in pending]
        ids.update({ref: ident for ident, ref in connection.execute(statement, batch)})
        pending = [index for index in pending if rows[index]["ref"] not in ids]
        if not pending:
            return [ids[row["ref"]] for row in rows]
        for index in pending:  # ON CONFLICT DO NOTHING: this reference was taken
            rows[index]["ref"] = new_entry_ref()
    raise IntegrityError("no free entry reference", None, Exception())  # pragma: no cover


def _as_loaded(session: Session, row: dict[str, Any], ident: int) -> Entry:
    """The new row as an :class:`Entry` attached to the session as if just loaded."""
    entry = Entry(**{key: value for key, value in row.items()})
    entry.id = ident
    make_transient_to_detached(entry)  # no pending change, no history: nothing to flush
    session.add(entry)
    return entry


def create_many(session: Session, news: Sequence[NewEntry], *, now: dt.datetime,
                actor: str = "system", load: bool = True) -> list[Entry]:
    """Create every entry of ``news`` in the caller's transaction, with its history and audit rows.

    One ``INSERT`` for all the entries (``ON CONFLICT DO NOTHING`` on the
    reference, drawn again when taken), one batch of history events and, in
    order, the audit rows of each (``entry.create``, then ``entry.status`` for a
    ``final_status``). Each :class:`NewEntry` gets its ``ref`` and ``id``.
    With ``load`` the entries come back as session objects (intake acknowledges
    them); an import of thousands of rows passes ``load=False`` and gets ``[]``.
    """
    if not news:
        return []
    rows = [_entry_row(new, now) for new in news]
    ids = _insert_rows(session, rows)
    events: list[dict[str, Any]] = []
    for new, row, ident in zip(news, rows, ids, strict=True):
        new.ref, new.id = row["ref"], ident
        events.append({"entry_id": ident, "at": now, "kind": "created",
                       "inbound_message_id": new.inbound_id,
                       "detail": {"fields": sorted(k for k in new.fields if k in FIELD_COLUMNS),
                                  "problems": [p["key"] for p in row["problems"]]}})
        events.extend({"entry_id": ident, "at": now, "kind": kind, "inbound_message_id": None,
                       "detail": detail} for kind, detail in new.extra_events)
        if new.final_status is not None:
            events.append({"entry_id": ident, "at": new.final_at or now, "kind": "status",
                           "inbound_message_id": None,
                           "detail": {"from": str(new.status), "to": str(new.final_status),
                                      "reason": new.final_reason}})
    appends.add_many(session, _INSERT_EVENT, events)
    trail: list[audit.AuditRow] = []
    for new in news:
        trail.append(audit.AuditRow(
            actor=actor, action="entry.create", object_type="entry", object_id=new.ref,
            after={"status": str(new.status)}, inbound_message_id=new.inbound_id, at=now))
        if new.final_status is not None:
            trail.append(audit.AuditRow(
                actor=actor, action="entry.status", object_type="entry", object_id=new.ref,
                before={"status": str(new.status)},
                after={"status": str(new.final_status), "reason": new.final_reason},
                at=new.final_at or now))
    audit.record_many(session, trail)
    if not load:
        return []
    return [_as_loaded(session, row, ident) for row, ident in zip(rows, ids, strict=True)]


def create_entry(session: Session, *, fields: Mapping[str, Any], status: EntryStatus,
                 problems: Iterable[Mapping[str, Any]], now: dt.datetime,
                 received_at: dt.datetime | None = None, referrer_email: str | None = None,
                 referrer_name: str | None = None, source_message_id: str | None = None,
                 inbound_id: int | None = None, actor: str = "system") -> Entry:
    """Create one entry: :func:`create_many` of one."""
    new = NewEntry(fields=fields, status=status, problems=problems, received_at=received_at,
                   referrer_email=referrer_email, referrer_name=referrer_name,
                   source_message_id=source_message_id, inbound_id=inbound_id)
    return create_many(session, [new], now=now, actor=actor)[0]


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
