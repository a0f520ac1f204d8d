"""The inbound journal: every mail received, stored before anything else happens."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, or_, select, text, update
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.attributes import set_committed_value

from store.models import InboundMessage, InboundState


@dataclass(frozen=True)
class Stored:
    """What :func:`store_raw` did with one message."""

    inbound_id: int
    state: InboundState
    already_stored: bool  # the same transport delivery was stored before (crash before set-aside)


def store_raw(session: Session, *, transport_key: str, raw: bytes, message_id: str | None,
              sender: str | None, now: dt.datetime) -> Stored:
    """Record a message's raw bytes, or recognise it.

    * the same transport key with the same bytes → already stored (we crashed
      between the commit and setting it aside): nothing new is written;
    * a Message-ID (or, without one, a sha256) seen before → a new row in
      state ``duplicate``, never processed;
    * otherwise a new row in state ``received``.
    """
    digest = hashlib.sha256(raw).hexdigest()
    same = session.scalars(
        select(InboundMessage).where(InboundMessage.transport_key == transport_key,
                                     InboundMessage.sha256 == digest).limit(1)
    ).first()
    if same is not None:
        return Stored(same.id, InboundState(same.state), True)
    if message_id:
        previous = session.scalars(
            select(InboundMessage.id).where(InboundMessage.message_id == message_id)
            .order_by(InboundMessage.id).limit(1)
        ).first()
    else:
        previous = session.scalars(
            select(InboundMessage.id).where(InboundMessage.sha256 == digest)
            .order_by(InboundMessage.id).limit(1)
        ).first()
    row = InboundMessage(
        transport_key=transport_key, message_id=message_id, sha256=digest, sender=sender,
        received_at=now, size=len(raw), raw=raw,
        state=InboundState.DUPLICATE if previous else InboundState.RECEIVED,
        reason="message_id_seen" if previous and message_id else ("sha256_seen" if previous else None),
        kind="duplicate" if previous else None, duplicate_of=previous, attempts=0,
        processed_at=now if previous else None,
    )
    session.add(row)
    session.flush()
    return Stored(row.id, InboundState(row.state), False)


@dataclass(frozen=True)
class Incoming:
    """One fetched mail to store: its transport key, bytes and envelope."""

    transport_key: str
    raw: bytes
    message_id: str | None
    sender: str | None


_INSERT = insert(InboundMessage).returning(InboundMessage.id, sort_by_parameter_order=True)


def store_many(session: Session, mails: list[Incoming], now: dt.datetime,
               claim: tuple[str, dt.datetime] | None = None) -> list[Stored]:
    """:func:`store_raw` for a batch, with two look-ups for the whole batch.

    ``claim`` (worker, lease end): the new rows to process are stored already claimed by
    that worker (:func:`claim`), in the same commit as their bytes — no extra statement.
    """
    holder, until = claim if claim is not None else (None, None)
    digests = [hashlib.sha256(m.raw).hexdigest() for m in mails]
    keys = [m.transport_key for m in mails]
    known: dict[tuple[str, str], tuple[int, str]] = {
        (key, digest): (ident, state) for ident, key, digest, state in session.execute(
            select(InboundMessage.id, InboundMessage.transport_key, InboundMessage.sha256,
                   InboundMessage.state).where(InboundMessage.transport_key.in_(keys)))
    }
    ids = [m.message_id for m in mails if m.message_id]
    seen_ids: dict[str, int] = {}
    if ids:
        for ident, message_id in session.execute(
                select(InboundMessage.id, InboundMessage.message_id)
                .where(InboundMessage.message_id.in_(ids)).order_by(InboundMessage.id.desc())):
            if message_id is not None:
                seen_ids[message_id] = ident
    seen_digests: dict[str, int] = {}
    no_id = [d for m, d in zip(mails, digests, strict=True) if not m.message_id]
    if no_id:
        for ident, digest in session.execute(
                select(InboundMessage.id, InboundMessage.sha256)
                .where(InboundMessage.sha256.in_(no_id)).order_by(InboundMessage.id.desc())):
            seen_digests[digest] = ident
    # Each mail is: a row already stored (same key and bytes), the repeat of an earlier
    # mail of this batch, or a new row (a duplicate when its Message-ID or digest was seen).
    results: list[Stored | int | None] = []  # Stored, or the index of the row that decides
    first: dict[tuple[str, str], int] = {}  # (key, digest) → index of its new row
    first_id: dict[tuple[str, str], int] = {}  # Message-ID or digest → its first new row
    rows: dict[int, dict[str, object]] = {}
    later: dict[int, int] = {}  # index of a row duplicating a new row → that row's index
    for index, (mail, digest) in enumerate(zip(mails, digests, strict=True)):
        same = known.get((mail.transport_key, digest))
        if same is not None:
            results.append(Stored(same[0], InboundState(same[1]), True))
            continue
        if (mail.transport_key, digest) in first:
            results.append(first[(mail.transport_key, digest)])
            continue
        if mail.message_id is not None:
            mark, previous = ("id", mail.message_id), seen_ids.get(mail.message_id)
        else:
            mark, previous = ("sha256", digest), seen_digests.get(digest)
        if previous is None and mark in first_id:
            later[index] = first_id[mark]
        duplicate = previous is not None or index in later
        rows[index] = {
            "transport_key": mail.transport_key, "message_id": mail.message_id, "sha256": digest,
            "sender": mail.sender, "received_at": now, "size": len(mail.raw), "raw": mail.raw,
            "state": InboundState.DUPLICATE if duplicate else InboundState.RECEIVED,
            "reason": ("message_id_seen" if mail.message_id else "sha256_seen") if duplicate
            else None,
            "kind": "duplicate" if duplicate else None, "duplicate_of": previous, "attempts": 0,
            "processed_at": now if duplicate else None, "entry_id": None, "raw_destroyed_at": None,
            "claimed_by": None if duplicate else holder, "lease_until": None if duplicate else until,
        }
        first[(mail.transport_key, digest)] = index
        first_id.setdefault(mark, index)
        results.append(None)
    ids_of: dict[int, int] = {}
    for wave in ([i for i in rows if i not in later], list(later)):  # duplicates need ids
        for index in wave:
            if index in later:
                rows[index]["duplicate_of"] = ids_of[later[index]]
        if wave:  # one INSERT … RETURNING for the wave (executemany, ids in order)
            returned = session.connection().execute(_INSERT, [rows[i] for i in wave]).scalars()
            ids_of.update(zip(wave, (int(ident) for ident in returned), strict=True))
    out: list[Stored] = []
    for index, result in enumerate(results):
        if isinstance(result, Stored):
            out.append(result)
            continue
        decided = index if result is None else result
        state = rows[decided]["state"]
        assert isinstance(state, InboundState)
        out.append(Stored(ids_of[decided], state, result is not None))
    return out


def serialize_stores(session: Session, key: int) -> None:
    """Wait until no other transaction stores under ``key`` (PostgreSQL; held to the commit).

    Two processes storing the same mailbox's mails at once (a leader that lost its role
    while a pass was under way, a ``run --once`` beside a daemon) would both miss the
    other's uncommitted rows and store one delivery twice; taken before
    :func:`store_many`'s look-ups, this lock makes the second one see the first's rows.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def states_of(session: Session, ids: list[int]) -> dict[int, InboundState]:
    """The current state of each message among ``ids``."""
    if not ids:
        return {}
    return {ident: InboundState(state) for ident, state in session.execute(
        select(InboundMessage.id, InboundMessage.state).where(InboundMessage.id.in_(ids)))}


def pending_ids(session: Session, limit: int) -> list[int]:
    """Ids of messages still in state ``received``, oldest first."""
    return list(session.scalars(
        select(InboundMessage.id).where(InboundMessage.state == InboundState.RECEIVED)
        .order_by(InboundMessage.id).limit(limit)))


def claim(session: Session, ids: list[int], worker: str, now: dt.datetime,
          lease: dt.timedelta) -> set[int]:
    """Claim the mails among ``ids`` still ``received`` for ``worker`` until ``now + lease``;
    return the ids claimed. One statement for the whole batch; the caller commits it
    before the work (a short transaction of its own), so that a process killed mid-work
    leaves its claims behind.

    A mail is taken when nobody holds it, when ``worker`` already does (renewed), or when
    its holder's lease has passed: the holder died (SIGKILL, power cut) or lost its
    database for longer than the lease. A live lease is never taken. On PostgreSQL rows
    locked by a transaction processing them right now are skipped (``SKIP LOCKED``), so
    that even a lease outlived by a slow batch never lets a second process in.
    """
    if not ids:
        return set()
    free = (select(InboundMessage.id)
            .where(InboundMessage.id.in_(ids), InboundMessage.state == InboundState.RECEIVED,
                   or_(InboundMessage.lease_until.is_(None), InboundMessage.lease_until < now,
                       InboundMessage.claimed_by == worker)))
    if session.get_bind().dialect.name == "postgresql":
        free = free.with_for_update(skip_locked=True)
    statement = (update(InboundMessage).where(InboundMessage.id.in_(free.scalar_subquery()))
                 .values(claimed_by=worker, lease_until=now + lease)
                 .returning(InboundMessage.id))
    return set(session.connection().execute(statement).scalars())


def load_for_processing(session: Session, ids: list[int], worker: str) -> list[InboundMessage]:
    """The messages among ``ids`` still ``received`` and claimed by ``worker``
    (:func:`claim`), in order, locked for this transaction.

    On PostgreSQL rows another transaction holds are skipped (``SKIP LOCKED``); a mail
    whose lease passed and another worker claimed since is left out.
    """
    query = (select(InboundMessage)
             .where(InboundMessage.id.in_(ids), InboundMessage.state == InboundState.RECEIVED,
                    InboundMessage.claimed_by == worker)
             .order_by(InboundMessage.id)
             .options(defer(InboundMessage.raw)))  # loaded on first use: the pass parsed it
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query).all())


REASON_LENGTH = 200  # InboundMessage.reason is String(200)


def _short(reason: str | None) -> str | None:
    return reason[:REASON_LENGTH] if reason else None


_FINISH = (
    update(InboundMessage).where(InboundMessage.id == bindparam("_id"))
    .values(state=bindparam("_state"), kind=bindparam("_kind"), reason=bindparam("_reason"),
            processed_at=bindparam("_at"), claimed_by=None, lease_until=None,
            entry_id=func.coalesce(bindparam("_entry_id"), InboundMessage.entry_id))
)


@dataclass(frozen=True)
class Finished:
    """A message's terminal state, for :func:`finish_many`."""

    message: InboundMessage
    state: InboundState
    kind: str
    reason: str | None
    at: dt.datetime
    entry_id: int | None = None


def finish_many(session: Session, finished: list[Finished]) -> None:
    """:func:`finish` for a batch: one ``executemany`` instead of an ORM flush of each row.

    The loaded objects get the same values, as if read back from the database.
    """
    if not finished:
        return
    rows = []
    for one in finished:
        reason = _short(one.reason)
        rows.append({"_id": one.message.id, "_state": one.state, "_kind": one.kind,
                     "_reason": reason, "_at": one.at, "_entry_id": one.entry_id})
        for key, value in (("state", one.state), ("kind", one.kind), ("reason", reason),
                           ("processed_at", one.at), ("claimed_by", None),
                           ("lease_until", None)):
            set_committed_value(one.message, key, value)
        if one.entry_id is not None:
            set_committed_value(one.message, "entry_id", one.entry_id)
    session.connection().execute(_FINISH, rows)


def finish(session: Session, message: InboundMessage, state: InboundState, *, kind: str,
           reason: str | None, now: dt.datetime, entry_id: int | None = None) -> None:
    """Put one message in its terminal state (:func:`finish_many` of one)."""
    finish_many(session, [Finished(message, state, kind, reason, now, entry_id)])


def counts_by_state(session: Session) -> dict[str, int]:
    """How many inbound messages are in each state."""
    rows = session.execute(select(InboundMessage.state, func.count()).group_by(InboundMessage.state))
    return {state: int(n) for state, n in rows}
