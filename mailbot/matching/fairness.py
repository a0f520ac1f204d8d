"""The fairness report: how long each priority group waits, so unfairness shows.

Every registered entry (not ``incomplete``) is put in the first configured
priority group it belonged to when registered (``[matching] groups``, the
same whatever the policy, so reports of two policies compare). For each
group: how many, how many a GP accepted and after how many days (median,
mean, 90th percentile), how many still wait and for how long.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import asdict, dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.clock import local_date
from mailbot.config import MatchingConfig
from mailbot.matching.criteria import OTHER, group_label, group_of
from store.models import Entry, EntryStatus
from store.models_matching import Proposal, ProposalState

_COLUMNS = (Entry.id, Entry.status, Entry.received_at, Entry.date_naissance, Entry.ald, Entry.css,
            Entry.ame, Entry.urgent, Entry.situation_complexe, Entry.mobilite_reduite,
            Entry.priority)
_STILL_WAITING = (EntryStatus.WAITING, EntryStatus.PROPOSED)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass(frozen=True)
class GroupFairness:
    """Waiting times of one priority group (days; ``None`` when nobody to measure)."""

    group: str
    label: str
    entries: int
    matched: int
    days_to_match_median: float | None
    days_to_match_mean: float | None
    days_to_match_p90: float | None
    still_waiting: int
    days_waiting_median: float | None


@dataclass(frozen=True)
class FairnessReport:
    """One report: the policy in force, when, and one line per group."""

    policy: str
    at: str
    groups: list[GroupFairness]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"policy": self.policy, "at": self.at, "groups": [asdict(g) for g in self.groups]}

    def as_text(self) -> str:
        """A small French table."""
        def show(value: float | None) -> str:
            return "—" if value is None else f"{value:.0f}"

        lines = [f"Attente par groupe de priorité (politique {self.policy}, au {self.at}) :",
                 f"  {'groupe':<32} {'inscrits':>8} {'acceptés':>8} {'médiane':>7} "
                 f"{'moyenne':>7} {'p90':>5} {'attendent':>9} {'depuis':>6}"]
        for g in self.groups:
            lines.append(f"  {g.label:<32} {g.entries:>8} {g.matched:>8} "
                         f"{show(g.days_to_match_median):>7} {show(g.days_to_match_mean):>7} "
                         f"{show(g.days_to_match_p90):>5} {g.still_waiting:>9} "
                         f"{show(g.days_waiting_median):>6}")
        lines.append("  (jours entre l'inscription et l'acceptation par un médecin ; "
                     "« depuis » : attente actuelle, médiane)")
        return "\n".join(lines)


def fairness_report(session: Session, config: MatchingConfig, now: dt.datetime) -> FairnessReport:
    """Waiting time by priority group, for every entry registered up to ``now``."""
    first_accept = dict(session.execute(
        select(Proposal.entry_id, func.min(Proposal.decided_at))
        .where(Proposal.state == ProposalState.ACCEPTED).group_by(Proposal.entry_id)).all())
    keys = [*config.groups, OTHER]
    waits: dict[str, list[float]] = {k: [] for k in keys}
    current: dict[str, list[float]] = {k: [] for k in keys}
    counts: dict[str, int] = dict.fromkeys(keys, 0)
    rows = session.execute(select(*_COLUMNS).where(
        Entry.status.not_in((EntryStatus.INCOMPLETE, EntryStatus.RECEIVED)),
        Entry.received_at <= now))
    for row in rows:
        entry = SimpleNamespace(**row._asdict())
        group = group_of(entry, config.groups, local_date(entry.received_at))
        counts[group] += 1
        accepted = first_accept.get(entry.id)
        if accepted is not None:
            waits[group].append((accepted - entry.received_at).total_seconds() / 86400)
        if entry.status in _STILL_WAITING:
            current[group].append((now - entry.received_at).total_seconds() / 86400)
    groups = []
    for key in keys:
        done, waiting = waits[key], current[key]
        groups.append(GroupFairness(
            group=key, label=group_label(key), entries=counts[key], matched=len(done),
            days_to_match_median=statistics.median(done) if done else None,
            days_to_match_mean=statistics.fmean(done) if done else None,
            days_to_match_p90=_percentile(done, 0.9) if done else None,
            still_waiting=len(waiting),
            days_waiting_median=statistics.median(waiting) if waiting else None))
    return FairnessReport(policy=config.policy, at=local_date(now).isoformat(), groups=groups)
