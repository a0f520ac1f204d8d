"""One function per figure, folded from the grouped rows of :mod:`mailbot.stats.cubes`.

Each function returns plain JSON-ready values: ``dict[str, int]`` breakdowns
(every key always present, zeros included), or dicts holding a ``count`` plus
what is derived from it (``share``, ``median_days``, ``p90_days``) — the shape
:mod:`mailbot.stats.masking` relies on.

Period figures describe entries *registered* (``received_at``) or *resolved*
(``resolved_at``) during the period; snapshot figures the list as it is now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.stats import groups
from mailbot.stats.cubes import Block, Outcome, Spread
from mailbot.stats.groups import ALD, AME, COMPLEXE, CSS, MOBILITE, PRIORITY, URGENT
from mailbot.stats.period import Period
from parsers.referral.labels import normalise
from store.models import Alert, EntryStatus, InboundMessage, InboundState

CRITERIA: tuple[str, ...] = (
    "ald", "css_ame", "situation_complexe", "mobilite_reduite", "urgent", "priorite", "fragile",
)
FOUND_CRITERIA: tuple[str, ...] = (
    "ald", "over_70", "css_ame", "situation_complexe", "under_6", "fragile",
)


@dataclass(frozen=True)
class Cubes:
    """The results of :func:`mailbot.stats.cubes.run_queries` for one period."""

    months: list[str]
    registrations: list[Block]
    registrations_by_month: list[int]
    referrers: list[tuple[str | None, str | None, int]]
    communes: list[tuple[str | None, str | None, int]]
    outcomes: list[Outcome]
    statuses: dict[str, int]
    confirmations: list[int]
    resolution_times: dict[str, Spread]
    waiting_times: dict[str, Spread]

    @classmethod
    def of(cls, period: Period, results: dict[str, Any]) -> Cubes:
        """Wrap the query results."""
        return cls(months=period.months(), **results)


def _zeros(keys: Iterable[str]) -> dict[str, int]:
    return dict.fromkeys(keys, 0)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


# ---------------------------------------------------------------- requests (registered in period)

def requests_total(c: Cubes) -> int:
    """Entries registered during the period."""
    return sum(sum(block.bands.values()) for block in c.registrations)


def requests_by_month(c: Cubes) -> dict[str, int]:
    """Registrations per local month, every month of the period present."""
    return dict(zip(c.months, c.registrations_by_month, strict=True))


def requests_by_referrer_type(c: Cubes) -> dict[str, int]:
    """Registrations per kind of referrer (DAC, hospital, CPAM, pharmacy, nurse, other)."""
    out = _zeros(groups.REFERRER_TYPES)
    for email, structure, n in c.referrers:
        out[groups.referrer_type(email, structure)] += n
    return out


def requests_by_criteria(c: Cubes) -> dict[str, int]:
    """Registrations with each criterion (an entry may have several). ``urgent`` includes
    ``priorite`` is a coordinator's priority; ``fragile`` = ALD, CSS/AME, complex situation or
    over 70."""
    out = _zeros(CRITERIA)
    tests = {
        "ald": lambda band, f: f & ALD, "css_ame": lambda band, f: f & (CSS | AME),
        "situation_complexe": lambda band, f: f & COMPLEXE,
        "mobilite_reduite": lambda band, f: f & MOBILITE,
        "urgent": lambda band, f: f & URGENT, "priorite": lambda band, f: f & PRIORITY,
        "fragile": groups.is_fragile,
    }
    for block in c.registrations:
        for band, n in block.bands.items():
            for key, test in tests.items():
                if test(band, block.flags):
                    out[key] += n
    return out


def requests_by_age_band(c: Cubes) -> dict[str, int]:
    """Registrations per age band (age at registration)."""
    out = _zeros(groups.AGE_BANDS)
    for block in c.registrations:
        for band, n in block.bands.items():
            out[band] += n
    return out


def requests_by_priority_group(c: Cubes) -> dict[str, int]:
    """Registrations per priority group (age at registration)."""
    out = _zeros(groups.PRIORITY_GROUPS)
    for block in c.registrations:
        for band, n in block.bands.items():
            out[groups.group_of(band, block.flags)] += n
    return out


def requests_by_commune(c: Cubes) -> list[dict[str, Any]]:
    """Registrations per commune (postal code + town, case and accents merged), largest first.

    The spelling shown is the most frequent one, preferring one not in capitals.
    """
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    spellings: dict[tuple[str, str], dict[str, int]] = {}
    for code, town, n in c.communes:
        key = (code or "", normalise(town or ""))
        item = merged.setdefault(key, {"code_postal": code, "commune": town, "count": 0})
        item["count"] += n
        if town:
            seen = spellings.setdefault(key, {})
            seen[town] = seen.get(town, 0) + n
    for key, seen in spellings.items():
        merged[key]["commune"] = max(seen, key=lambda s: (seen[s], not s.isupper(), s))
    return sorted(merged.values(), key=lambda i: (-i["count"], i["code_postal"] or "~",
                                                  i["commune"] or "~"))


def requests_by_status(c: Cubes) -> dict[str, int]:
    """Current status of the entries registered during the period."""
    out = _zeros(s.value for s in EntryStatus)
    for block in c.registrations:
        out[block.status] = out.get(block.status, 0) + sum(block.bands.values())
    return out


# ---------------------------------------------------------------- outcomes (resolved in period)

def _way(cell: Outcome) -> str:
    if cell.status == EntryStatus.CLOSED:
        return "closed"
    return groups.resolution_way(cell.resolution)


def resolutions(c: Cubes) -> dict[str, Any]:
    """Entries resolved or closed during the period: per month and way, and closing reasons."""
    months = {m: _zeros(groups.WAYS) for m in c.months}
    by_way = _zeros(groups.WAYS)
    closed = _zeros(groups.CLOSED_REASONS)
    for cell in c.outcomes:
        way = _way(cell)
        if cell.month is not None:
            months[c.months[cell.month]][way] += cell.n
        by_way[way] += cell.n
        if way == "closed":
            closed[groups.closed_reason_kind(cell.closed_reason)] += cell.n
    return {"total": sum(by_way.values()), "by_month": months, "by_way": by_way,
            "closed_by_reason": closed}


def _spread_json(spread: Spread) -> dict[str, Any]:
    return {"count": spread.count, "median_days": spread.median, "p90_days": spread.p90}


def _spread_table(found: dict[str, Spread]) -> dict[str, Any]:
    return {"overall": _spread_json(found["overall"]),
            "by_priority_group": {g: _spread_json(found[g]) for g in groups.PRIORITY_GROUPS}}


def time_to_resolution(c: Cubes) -> dict[str, Any]:
    """Days from registration to resolution (median, p90) of the entries resolved in the period,
    overall and per priority group at registration. Closed entries are not resolutions."""
    return _spread_table(c.resolution_times)


def found_mt(c: Cubes) -> dict[str, Any]:
    """The ACI indicator: patients who found a doctor during the period, and the fragile ones.

    Shares are of ``total``; ``by_way`` splits found through a CPTS GP from found alone.
    """
    total = 0
    counts = _zeros(FOUND_CRITERIA)
    by_way = {w: {"count": 0, "fragile": 0} for w in groups.WAYS if w != "closed"}
    for cell in c.outcomes:
        if cell.status != EntryStatus.RESOLVED:
            continue
        total += cell.n
        way = by_way[groups.resolution_way(cell.resolution)]
        way["count"] += cell.n
        fragile = cell.n if cell.flags & (ALD | CSS | AME | COMPLEXE) else cell.over_70
        way["fragile"] += fragile
        counts["fragile"] += fragile
        counts["over_70"] += cell.over_70
        counts["under_6"] += cell.under_6
        for key, bits in (("ald", ALD), ("css_ame", CSS | AME), ("situation_complexe", COMPLEXE)):
            if cell.flags & bits:
                counts[key] += cell.n
    return {
        "total": total,
        "criteria": {k: {"count": counts[k], "share": _share(counts[k], total)}
                     for k in FOUND_CRITERIA},
        "by_way": {w: {"count": v["count"], "fragile": v["fragile"],
                       "share": _share(v["fragile"], v["count"])} for w, v in by_way.items()},
    }


# ---------------------------------------------------------------- snapshot (now)

def entries_by_status(c: Cubes) -> dict[str, int]:
    """Every entry on record by current status."""
    out = _zeros(s.value for s in EntryStatus)
    for status, n in c.statuses.items():
        out[status] = out.get(status, 0) + n
    return out


def still_waiting(c: Cubes) -> dict[str, Any]:
    """Days waited so far by the patients still waiting (``waiting``/``proposed``), median and
    p90, overall and per priority group (age today)."""
    return _spread_table(c.waiting_times)


def confirmations_by_month(c: Cubes) -> dict[str, int]:
    """Patients whose latest "still looking" confirmation fell in each month of the period."""
    return dict(zip(c.months, c.confirmations, strict=True))


def open_alerts(session: Session) -> int:
    """Alerts a coordinator has not dealt with yet."""
    query = select(func.count()).select_from(Alert).where(Alert.resolved_at.is_(None))
    return int(session.execute(query).scalar_one())


def inbound_by_state(session: Session, period: Period) -> dict[str, int]:
    """Mails received during the period by final state (``received`` = still being processed)."""
    out = _zeros(s.value for s in InboundState)
    query = (select(InboundMessage.state, func.count())
             .where(InboundMessage.received_at >= period.start,
                    InboundMessage.received_at < period.end)
             .group_by(InboundMessage.state))
    for state, n in session.execute(query):
        out[str(state)] = out.get(str(state), 0) + int(n)
    return out
