"""Filling GPs' free slots with the best compatible entries; the scheduled proposal round.

A GP's free slots: at most ``capacity_per_month`` patients a month (accepted
this month + proposals still open) and at most ``max_open_proposals``
proposals waiting for his answer (a ``DEMANDE n`` asks for ``n`` at once,
within his monthly capacity). The mix rule keeps complex situations to
``mix_max_complex`` per GP per ``mix_period_days``.

The round is set-based: one query finds the GPs with free slots and their
load, one indexed query reads the waiting entries of the postal codes they
serve in policy order (:class:`~mailbot.matching.pool.Pool`); GPs then take,
least recently served first, their best compatible entries in memory; the
proposals are written in short transactions of a few dozen GPs, each entry
re-read and locked first (anything that changed meanwhile is left alone), their
append-only rows (audit, history, tokens) buffered into one ``executemany`` per table.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mailbot.app import App
from mailbot.clock import PARIS, local_date
from mailbot.matching.offer import make_proposals
from mailbot.matching.policy import explain
from mailbot.matching.pool import Pool, Rules, proposed_before
from store import appends, transaction_state
from store import proposals as proposal_store
from store.models import Entry, EntryStatus
from store.models_matching import GP, Proposal
from store.proposals import NewProposal, Usage

log = logging.getLogger(__name__)

WRITE_BATCH = 50  # GPs whose proposals are written in one transaction


def month_start(now: dt.datetime) -> dt.datetime:
    """Midnight, Paris time, on the first day of ``now``'s month (as UTC)."""
    local = now.astimezone(PARIS)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return first.replace(tzinfo=PARIS).astimezone(dt.UTC)


def _windows(app: App, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The start of this month (capacity) and of the mix rule's period."""
    return month_start(now), now - dt.timedelta(days=app.config.matching.mix_period_days)


def gp_usage(app: App, session: Session, gp: GP, now: dt.datetime) -> Usage:
    """The GP's open proposals, acceptances this month and complex situations this period."""
    month, period = _windows(app, now)
    return proposal_store.usage(session, gp.id, month_start=month, period_start=period)


def _slots(capacity: int, max_open: int, use: Usage, want: int | None) -> tuple[int, str | None]:
    """Free slots and, when they limit, what limits them."""
    capacity_left = capacity - use.used_this_month
    if want is not None:
        free = min(want, capacity_left)
        return free, "capacity" if free < want else None
    open_left = max_open - use.pending
    if capacity_left <= open_left:
        return capacity_left, "capacity"
    return open_left, "open_proposals"


def _complex_left(app: App, use: Usage) -> int | None:
    limit = app.config.matching.mix_max_complex
    return None if limit is None else limit - use.complex_in_period


@dataclass(frozen=True)
class Pick:
    """An entry chosen for a GP, its rank and the number of his candidates at his turn."""

    entry_id: int
    rank: int
    candidates: int


def choose(pool: Pool, rules: Rules, excluded: set[int], free: int,
           complex_left: int | None) -> list[Pick]:
    """The GP's best ``free`` candidates (mix rule applied); they are taken from the pool."""
    picks: list[Pick] = []
    if free <= 0:
        return picks
    total, candidates = pool.candidates(rules, excluded)
    for rank, entry_id in enumerate(candidates, start=1):
        if complex_left is not None and entry_id in pool.complex_ids:
            if complex_left <= 0:
                continue  # mix rule: this GP has had his share of complex situations
            complex_left -= 1
        picks.append(Pick(entry_id, rank, total))
        pool.take(entry_id)
        if len(picks) >= free:
            break
    return picks


@dataclass
class Fill:
    """What filling one GP did: the proposals made and, when fewer than wanted, why."""

    proposals: list[Proposal] = field(default_factory=list)
    wanted: int = 0
    limited_by: str | None = None  # paused | capacity | open_proposals | candidates


def _lock_entries(session: Session, ids: list[int]) -> dict[int, Entry]:
    """The entries, locked on PostgreSQL and read again under the lock: an entry already in
    the session (read by the pool or a batch's prefetch) must not keep the status it had
    before another process proposed it (two pending proposals for one entry)."""
    query = select(Entry).where(Entry.id.in_(ids)).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Entry)
    return {entry.id: entry for entry in session.scalars(query)}


def _wanted(app: App, gp: GP, picks: list[Pick], entries: dict[int, Entry], use: Usage,
            now: dt.datetime, kind: str) -> list[NewProposal]:
    """The proposals of ``picks`` whose entry is still waiting, with their explanation."""
    cfg = app.config.matching
    wanted = []
    for pick in picks:
        entry = entries.get(pick.entry_id)
        if entry is None or entry.status != EntryStatus.WAITING:
            continue  # changed since it was read: left alone
        why: dict[str, Any] = {**explain(cfg, entry, now), "kind": kind, "rank": pick.rank,
                               "candidates": pick.candidates, "gp": gp.rpps}
        if cfg.mix_max_complex is not None:
            why["mix"] = {"max_complex": cfg.mix_max_complex, "period_days": cfg.mix_period_days,
                          "complex_in_period": use.complex_in_period}
        wanted.append(NewProposal(entry, gp, kind, why))
    return wanted


def lock_gps(session: Session, ids: list[int], *, areas: bool = True) -> dict[int, GP]:
    """The GPs, locked on PostgreSQL (a round and a DEMANDE never fill one GP at once).

    ``areas=False`` when the places served are not needed (writing a planned round).
    A GP is read and locked once per transaction (a batch of replies answers the
    same GP several times; his row cannot change under the lock); inside a savepoint,
    whose rollback would release the lock, every call locks again.
    """
    nested = session.in_nested_transaction()
    locked: dict[int, GP] = {} if nested else transaction_state.setdefault(
        session, "locked_gps", dict)
    todo = [gp_id for gp_id in ids if gp_id not in locked]
    if todo:
        query = (select(GP).where(GP.id.in_(todo)).order_by(GP.id)  # one order: no deadlock
                 .execution_options(populate_existing=True))
        if areas:
            query = query.options(selectinload(GP.areas))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=GP)
        locked.update({gp.id: gp for gp in session.scalars(query)})
    return {gp_id: locked[gp_id] for gp_id in ids if gp_id in locked}


@dataclass(frozen=True)
class Slots:
    """What a GP may receive now: free slots, how many were wanted, what limits, his load."""

    free: int
    wanted: int
    limited_by: str | None
    use: Usage
    paused: bool = False


def gp_slots(app: App, session: Session, gp: GP, now: dt.datetime, *,
             want: int | None = None) -> Slots:
    """The GP's free slots now (he is locked first)."""
    lock_gps(session, [gp.id])
    if not gp.accepting:
        return Slots(0, want or 0, "paused", Usage(0, 0, 0), paused=True)
    use = gp_usage(app, session, gp, now)
    free, limit_reason = _slots(gp.capacity_per_month, gp.max_open_proposals, use, want)
    return Slots(free, want if want is not None else max(free, 0), limit_reason, use)


def fill_gp(app: App, session: Session, gp: GP, now: dt.datetime, *, kind: str = "round",
            want: int | None = None, actor: str = "system", inbound_id: int | None = None) -> Fill:
    """Propose to ``gp`` the best compatible entries his free slots allow, in the caller's transaction.

    ``want`` (a ``DEMANDE n``) asks for that many now, within the monthly
    capacity but beyond ``max_open_proposals``.
    """
    return fill_slots(app, session, gp, now, gp_slots(app, session, gp, now, want=want),
                      kind=kind, actor=actor, inbound_id=inbound_id)


def fill_slots(app: App, session: Session, gp: GP, now: dt.datetime, slots: Slots, *,
               kind: str, actor: str, inbound_id: int | None,
               pool: Pool | None = None) -> Fill:
    """:func:`fill_gp` with the slots already counted (:func:`gp_slots`).

    ``pool``: the waiting entries already read (of his postal codes at least), else
    they are read now; an entry of it changed since is left alone (read again under
    its lock).
    """
    fill = Fill(wanted=slots.wanted)
    if slots.paused or slots.free <= 0:
        fill.limited_by = slots.limited_by
        return fill
    use = slots.use
    rules = Rules.of(gp, local_date(now))
    if pool is None:
        pool = Pool.load(session, app.config.matching, now, rules.codes)
    picks = choose(pool, rules, proposed_before(session, [gp.id])[gp.id], slots.free,
                   _complex_left(app, use))
    entries = _lock_entries(session, [p.entry_id for p in picks]) if picks else {}
    fill.proposals = make_proposals(app, session, _wanted(app, gp, picks, entries, use, now, kind),
                                    now, actor=actor, inbound_id=inbound_id)
    if len(fill.proposals) < slots.free:
        fill.limited_by = "candidates"
    elif len(fill.proposals) < fill.wanted:
        fill.limited_by = slots.limited_by
    return fill


@dataclass
class RoundReport:
    """What one round did (counts only)."""

    gps: int = 0
    proposals: int = 0
    limited_by: Counter[str] = field(default_factory=Counter)
    plan_s: float = 0.0   # reading GPs, load and candidates, and choosing
    write_s: float = 0.0  # writing proposals, audit, tokens and mails

    def summary(self) -> str:
        """One French line for ``jobs run`` and the job journal."""
        reasons = {"paused": "en pause", "capacity": "capacité atteinte",
                   "open_proposals": "propositions en cours", "candidates": "sans patient compatible"}
        detail = ", ".join(f"{n} {reasons.get(k, k)}" for k, n in sorted(self.limited_by.items()))
        text = f"{self.proposals} proposition(s) à {self.gps} médecin(s) disponible(s)"
        return f"{text} ({detail})" if detail else text


def _plan(app: App, now: dt.datetime, report: RoundReport) -> dict[int, list[Pick]]:
    """Read GPs, their load and the candidates once; choose every GP's entries in memory."""
    month, period = _windows(app, now)
    with app.db.sessions() as session:
        gps = list(session.scalars(select(GP).where(GP.accepting.is_(True))
                                   .options(selectinload(GP.areas))))
        used = proposal_store.usage_by_gp(session, month_start=month, period_start=period)
        last = proposal_store.last_proposal_times(session)
        report.gps = len(gps)
        free: dict[int, int] = {}
        for gp in gps:
            slots, limited_by = _slots(gp.capacity_per_month, gp.max_open_proposals,
                                       used.get(gp.id, Usage(0, 0, 0)), None)
            if slots > 0:
                free[gp.id] = slots
            elif limited_by:
                report.limited_by[limited_by] += 1
        never = dt.datetime.min.replace(tzinfo=dt.UTC)
        order = sorted((gp for gp in gps if gp.id in free),
                       key=lambda gp: (last.get(gp.id, never), gp.id))
        today = local_date(now)
        rules = {gp.id: Rules.of(gp, today) for gp in order}
        pool = Pool.load(session, app.config.matching, now,
                         {cp for r in rules.values() for cp in r.codes})
        excluded = proposed_before(session, free)
    plan: dict[int, list[Pick]] = {}
    for gp in order:
        use = used.get(gp.id, Usage(0, 0, 0))
        plan[gp.id] = choose(pool, rules[gp.id], excluded[gp.id], free[gp.id],
                             _complex_left(app, use))
        if len(plan[gp.id]) < free[gp.id]:
            report.limited_by["candidates"] += 1
    return plan


def run_round(app: App, now: dt.datetime) -> RoundReport:
    """Fill every accepting GP with free slots, least recently served first."""
    report = RoundReport()
    started = time.perf_counter()
    plan = _plan(app, now, report)
    report.plan_s = time.perf_counter() - started
    month, period = _windows(app, now)
    order = [gp_id for gp_id, picks in plan.items() if picks]
    for start in range(0, len(order), WRITE_BATCH):
        batch = order[start:start + WRITE_BATCH]
        with app.db.transaction() as session:
            appends.enable(session)  # audit, history and tokens: one executemany per table
            gps = lock_gps(session, batch, areas=False)
            used = proposal_store.usage_by_gp(session, month_start=month, period_start=period,
                                              gp_ids=batch)
            entries = _lock_entries(session, [p.entry_id for g in batch for p in plan[g]])
            wanted: list[NewProposal] = []
            for gp_id in batch:
                gp = gps[gp_id]
                use = used.get(gp_id, Usage(0, 0, 0))
                free, _ = _slots(gp.capacity_per_month, gp.max_open_proposals, use, None)
                if gp.accepting and free > 0:  # else changed since the plan (a pause, a DEMANDE…)
                    wanted += _wanted(app, gp, plan[gp_id][:free], entries, use, now, "round")
            report.proposals += len(make_proposals(app, session, wanted, now, actor="system"))
    report.write_s = time.perf_counter() - started - report.plan_s
    log.info("proposal round: %d proposal(s), %d GP(s), %.1f s", report.proposals, report.gps,
             report.plan_s + report.write_s)
    return report
