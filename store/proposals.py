"""Proposals of entries to GPs: creation, state changes, what is due, figures per GP.

Every state change (proposal and follow-up) writes a hash-chained audit row;
the entry's own status changes are written by :func:`store.entries.set_status`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from store import audit
from store.models import Entry, EntryStatus
from store.models_matching import (
    GP,
    OPEN_FOLLOWUP_STATES,
    FollowupState,
    Proposal,
    ProposalState,
)
from store.types import UTCDateTime


@dataclass(frozen=True)
class Usage:
    """What a GP has on his plate, for capacity and the mix rule."""

    pending: int
    accepted_this_month: int
    complex_in_period: int

    @property
    def used_this_month(self) -> int:
        """Capacity used: accepted this month plus proposals still waiting for an answer."""
        return self.pending + self.accepted_this_month


@dataclass(frozen=True)
class NewProposal:
    """One proposal to create: which entry, to which GP, why."""

    entry: Entry
    gp: GP
    kind: str
    explanation: dict[str, Any]


def create_many(session: Session, new: Sequence[NewProposal], *, now: dt.datetime,
                expires_at: dt.datetime, actor: str) -> list[Proposal]:
    """New pending proposals, written in one batch (the caller moves the entries to ``proposed``)."""
    rows = [Proposal(entry_id=n.entry.id, gp_id=n.gp.id, kind=n.kind, state=ProposalState.PENDING,
                     complex=bool(n.entry.situation_complexe), explanation=n.explanation,
                     created_at=now, expires_at=expires_at, actor=actor, gp=n.gp) for n in new]
    session.add_all(rows)
    session.flush()
    for row, n in zip(rows, new, strict=True):
        audit.record(session, actor=actor, action="proposal.create", object_type="proposal",
                     object_id=row.id,
                     after={"state": ProposalState.PENDING.value, "entry": n.entry.ref,
                            "gp": n.gp.rpps, "kind": n.kind},
                     at=now)
    return rows


def set_state(session: Session, proposal: Proposal, state: ProposalState, *, now: dt.datetime,
              actor: str, reason: str | None = None, inbound_id: int | None = None) -> None:
    """Decide a proposal (accepted, declined, expired, cancelled)."""
    before = proposal.state
    proposal.state = state
    proposal.decided_at = now
    if reason is not None:
        proposal.decline_reason = reason[:500]
    if inbound_id is not None:
        proposal.inbound_message_id = inbound_id
    audit.record(session, actor=actor, action=f"proposal.{state.value}", object_type="proposal",
                 object_id=proposal.id, before={"state": before}, after={"state": state.value},
                 inbound_message_id=inbound_id, at=now)


def set_followup(session: Session, proposal: Proposal, state: FollowupState, *, now: dt.datetime,
                 actor: str, inbound_id: int | None = None,
                 next_at: dt.datetime | None = None) -> None:
    """Move the "devenu médecin traitant ?" follow-up of an accepted proposal.

    ``next_at``: for ``pending``, when the question is asked again.
    """
    before = proposal.followup_state
    after: dict[str, str] = {"followup": state.value}
    proposal.followup_state = state
    if state is FollowupState.ASKED:
        proposal.followup_asked_at = now
    elif state is FollowupState.REMINDED:
        proposal.followup_reminded_at = now
    elif state is FollowupState.PENDING:  # not decided: asked again later
        proposal.followup_next_at = next_at
        after["next"] = next_at.isoformat() if next_at else ""
    else:
        proposal.followup_decided_at = now
    audit.record(session, actor=actor, action=f"followup.{state.value}", object_type="proposal",
                 object_id=proposal.id, before={"followup": before},
                 after=after, inbound_message_id=inbound_id, at=now)


def pending_for_entry(session: Session, entry_id: int) -> Proposal | None:
    """The entry's proposal waiting for an answer, if any (there is at most one)."""
    return session.scalars(select(Proposal).where(Proposal.entry_id == entry_id,
                                                  Proposal.state == ProposalState.PENDING)).first()


def of_entry(session: Session, entry_id: int) -> list[Proposal]:
    """Every proposal of an entry, oldest first."""
    return list(session.scalars(select(Proposal).where(Proposal.entry_id == entry_id)
                                .order_by(Proposal.id)))


def accepted_for_entry(session: Session, entry_id: int) -> Proposal | None:
    """The latest accepted proposal of an entry (its match), if any."""
    return session.scalars(select(Proposal).where(Proposal.entry_id == entry_id,
                                                  Proposal.state == ProposalState.ACCEPTED)
                           .order_by(Proposal.id.desc()).limit(1)).first()


def _usage_columns() -> tuple[Any, ...]:
    pending = Proposal.state == ProposalState.PENDING
    live = Proposal.state.in_((ProposalState.PENDING, ProposalState.ACCEPTED))
    accepted = and_(Proposal.state == ProposalState.ACCEPTED,
                    Proposal.decided_at >= bindparam("month_start", type_=UTCDateTime()))
    complex_ = and_(live, Proposal.complex.is_(True),
                    Proposal.created_at >= bindparam("period_start", type_=UTCDateTime()))
    return tuple(func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
                 for condition in (pending, accepted, complex_))


_USAGE = select(*_usage_columns()).where(Proposal.gp_id == bindparam("gp_id"))
_USAGE_BY_GP = select(Proposal.gp_id, *_usage_columns()).group_by(Proposal.gp_id)


def usage(session: Session, gp_id: int, *, month_start: dt.datetime,
          period_start: dt.datetime) -> Usage:
    """Pending proposals, acceptances since ``month_start``, complex ones since ``period_start``."""
    row = session.execute(_USAGE, {"gp_id": gp_id, "month_start": month_start,
                                   "period_start": period_start}).one()
    return Usage(int(row[0]), int(row[1]), int(row[2]))


def usage_by_gp(session: Session, *, month_start: dt.datetime, period_start: dt.datetime,
                gp_ids: Sequence[int] | None = None) -> dict[int, Usage]:
    """:func:`usage` of every GP (or of ``gp_ids``) in one query; GPs without proposals are absent."""
    query = _USAGE_BY_GP if gp_ids is None else _USAGE_BY_GP.where(Proposal.gp_id.in_(gp_ids))
    rows = session.execute(query, {"month_start": month_start, "period_start": period_start})
    return {int(r[0]): Usage(int(r[1]), int(r[2]), int(r[3])) for r in rows}


def last_proposal_times(session: Session) -> dict[int, dt.datetime]:
    """When each GP last received a proposal (to serve the least recently served first)."""
    rows = session.execute(select(Proposal.gp_id, func.max(Proposal.created_at))
                           .group_by(Proposal.gp_id))
    return {gp_id: at for gp_id, at in rows}


def due_reminders(session: Session, *, created_before: dt.datetime,
                  limit: int = 10_000) -> Sequence[Proposal]:
    """Pending proposals created before ``created_before`` and not reminded yet."""
    return session.scalars(
        select(Proposal).where(Proposal.state == ProposalState.PENDING,
                               Proposal.reminded_at.is_(None),
                               Proposal.created_at <= created_before)
        .order_by(Proposal.id).limit(limit)).all()


def due_expiries(session: Session, *, now: dt.datetime, limit: int = 10_000) -> Sequence[Proposal]:
    """Pending proposals reminded once and whose answer time is over."""
    return session.scalars(
        select(Proposal).where(Proposal.state == ProposalState.PENDING,
                               Proposal.reminded_at.is_not(None), Proposal.expires_at <= now)
        .order_by(Proposal.id).limit(limit)).all()


def orphans(session: Session, *, limit: int = 10_000) -> Sequence[Proposal]:
    """Pending proposals whose entry is no longer ``proposed`` (closed or resolved meanwhile)."""
    return session.scalars(
        select(Proposal).join(Entry, Entry.id == Proposal.entry_id)
        .where(Proposal.state == ProposalState.PENDING, Entry.status != EntryStatus.PROPOSED)
        .order_by(Proposal.id).limit(limit)).all()


def followups_to_ask(session: Session, *, accepted_before: dt.datetime,
                     limit: int = 10_000) -> Sequence[Proposal]:
    """Matches older than ``accepted_before`` whose entry is still ``matched``, not asked yet."""
    return session.scalars(
        select(Proposal).join(Entry, Entry.id == Proposal.entry_id)
        .where(Proposal.state == ProposalState.ACCEPTED, Proposal.followup_state.is_(None),
               Proposal.decided_at <= accepted_before, Entry.status == EntryStatus.MATCHED)
        .order_by(Proposal.id).limit(limit)).all()


def pending_followups(session: Session, *, limit: int = 10_000) -> Sequence[Proposal]:
    """Follow-ups answered "not yet", to be asked again at their ``followup_next_at``."""
    return session.scalars(
        select(Proposal).where(Proposal.state == ProposalState.ACCEPTED,
                               Proposal.followup_state == FollowupState.PENDING)
        .order_by(Proposal.id).limit(limit)).all()


def open_followups(session: Session, *, limit: int = 10_000) -> Sequence[Proposal]:
    """Follow-ups asked (or reminded) and not answered."""
    return session.scalars(
        select(Proposal).where(Proposal.state == ProposalState.ACCEPTED,
                               Proposal.followup_state.in_([s.value for s in OPEN_FOLLOWUP_STATES]))
        .order_by(Proposal.id).limit(limit)).all()


@dataclass(frozen=True)
class GPFigures:
    """Proposals made to one GP and what became of them (statistics, acceptance rate)."""

    gp_id: int
    rpps: str
    proposed: int
    pending: int
    accepted: int
    declined: int
    expired: int
    cancelled: int
    became_mt: int
    not_mt: int

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted among answered-or-expired proposals (``None`` before any)."""
        decided = self.accepted + self.declined + self.expired
        return self.accepted / decided if decided else None


def figures_by_gp(session: Session, *, since: dt.datetime | None = None,
                  until: dt.datetime | None = None) -> list[GPFigures]:
    """Per GP: proposals created in ``[since, until)`` by outcome (every GP, even with none)."""
    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    join_on = Proposal.gp_id == GP.id
    if since is not None:
        join_on = and_(join_on, Proposal.created_at >= since)
    if until is not None:
        join_on = and_(join_on, Proposal.created_at < until)
    rows = session.execute(
        select(GP.id, GP.rpps, func.count(Proposal.id),
               *(count(Proposal.state == state) for state in
                 (ProposalState.PENDING, ProposalState.ACCEPTED, ProposalState.DECLINED,
                  ProposalState.EXPIRED, ProposalState.CANCELLED)),
               count(Proposal.followup_state == FollowupState.BECAME_MT),
               count(Proposal.followup_state == FollowupState.NOT_MT))
        .outerjoin(Proposal, join_on).group_by(GP.id, GP.rpps).order_by(GP.id))
    return [GPFigures(int(r[0]), r[1], *(int(v) for v in r[2:])) for r in rows]
