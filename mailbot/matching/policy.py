"""Priority policies: the order of compatible entries, in SQL, and why one entry has its place.

* ``fifo`` — registration date (``Entry.received_at``), then id;
* ``criteria`` — position of the first configured group the entry belongs to,
  then registration date;
* ``weighted`` — score = days waited + the weights of every criterion the
  entry meets, highest first, then registration date.

:func:`order_by` gives the SQL ``ORDER BY``; :func:`explain` the same
decision for one entry, in terms people can check; :func:`sort_key` its
Python twin (tests and the fairness report use it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, case, literal

from mailbot.clock import local_date
from mailbot.config import MatchingConfig
from mailbot.matching.criteria import GROUPS, group_label, group_of
from mailbot.matching.sqlfuncs import epoch_days, unindexed
from store.models import Entry

POLICY_LABELS = {
    "fifo": "ordre d'inscription",
    "criteria": "groupes prioritaires puis ordre d'inscription",
    "weighted": "score (jours d'attente + poids des critères)",
}


def waiting_days(received_at: dt.datetime, now: dt.datetime) -> float:
    """Days since registration (fractional)."""
    return (now - received_at).total_seconds() / 86400.0


def _weights_sql(config: MatchingConfig, today: dt.date) -> ColumnElement[Any]:
    total: ColumnElement[Any] = literal(0.0)
    for key, weight in config.weights.items():
        if weight:
            total = total + case((GROUPS[key].sql(today), weight), else_=0.0)
    return total


def order_by(config: MatchingConfig, now: dt.datetime, *, scan: bool = False) -> list[Any]:
    """The ``ORDER BY`` of candidates under the configured policy (best first).

    ``scan``: the query reads the whole table, then sorts — SQLite must not
    walk the registration-date index instead (see :class:`~mailbot.matching.sqlfuncs.unindexed`).
    """
    today = local_date(now)
    received: Any = unindexed(Entry.received_at) if scan else Entry.received_at
    if config.policy == "criteria":
        whens = [(GROUPS[key].sql(today), position) for position, key in enumerate(config.groups)]
        rank: ColumnElement[Any] = (case(*whens, else_=len(config.groups)) if whens
                                    else literal(0))
        return [rank, received, Entry.id]
    if config.policy == "weighted":
        score = _weights_sql(config, today) - epoch_days(Entry.received_at)
        return [score.desc(), received, Entry.id]
    return [received, Entry.id]


def _terms(config: MatchingConfig, entry: Any, now: dt.datetime) -> dict[str, float]:
    today = local_date(now)
    terms = {"attente": round(waiting_days(entry.received_at, now), 1)}
    for key, weight in config.weights.items():
        if weight and GROUPS[key].test(entry, today):
            terms[key] = float(weight)
    return terms


def sort_key(config: MatchingConfig, entry: Any, now: dt.datetime) -> tuple[Any, ...]:
    """Python twin of :func:`order_by` for one loaded entry (smaller is better)."""
    if config.policy == "criteria":
        group = group_of(entry, config.groups, local_date(now))
        position = config.groups.index(group) if group in config.groups else len(config.groups)
        return (position, entry.received_at, entry.id)
    if config.policy == "weighted":
        today = local_date(now)
        weights = sum(w for k, w in config.weights.items() if w and GROUPS[k].test(entry, today))
        score = weights + waiting_days(entry.received_at, now)
        return (-score, entry.received_at, entry.id)
    return (entry.received_at, entry.id)


def explain(config: MatchingConfig, entry: Any, now: dt.datetime) -> dict[str, Any]:
    """Why this entry has its place: policy, group or score terms, days waited."""
    today = local_date(now)
    why: dict[str, Any] = {
        "policy": config.policy,
        "registered": local_date(entry.received_at).isoformat(),
        "waiting_days": int(waiting_days(entry.received_at, now)),
    }
    if config.policy == "criteria":
        group = group_of(entry, config.groups, today)
        why["group"] = group
        why["group_label"] = group_label(group)
        why["group_position"] = (config.groups.index(group) + 1
                                 if group in config.groups else len(config.groups) + 1)
        why["groups"] = list(config.groups)
    elif config.policy == "weighted":
        terms = _terms(config, entry, now)
        why["terms"] = terms
        why["score"] = round(sum(terms.values()), 1)
    return why
