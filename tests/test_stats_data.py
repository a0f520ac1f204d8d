"""A known waitlist for the statistics tests, and the figures worked out by hand in Python.

(No tests in this module: ``test_stats*.py`` import it.)

:func:`build` writes the patients through the store (as the workflows do);
:func:`expected` recomputes every figure from the same Python objects with
plain date arithmetic, independently of the SQL.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from mailbot.stats import groups
from store import entries, recontact
from store.db import Database
from store.models import EntryStatus

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)
FIRST, LAST = dt.date(2025, 1, 1), dt.date(2025, 6, 30)
REFERRERS = [
    ("coordination@dac16.mssante.fr", "DAC 16"), ("urgences@ch-angouleme.mssante.fr", None),
    ("agent@cpam16.mssante.fr", "CPAM de la Charente"), ("officine@pharmacien.mssante.fr", None),
    ("ide.martin@infirmier.mssante.fr", "Cabinet infirmier"), ("as@mairie-exemple.fr", "CCAS"),
]
TOWNS = [("16000", "Angoulême"), ("16000", "ANGOULEME"), ("16000", "angouleme"),
         ("16100", "Cognac"), ("16200", "Jarnac"), (None, None)]
RESOLUTIONS = ["devenu médecin traitant", "a trouvé un médecin seul", "autre"]
CLOSINGS = ["décédé", "déménagé", "injoignable", "retrait du patient", "doublon", "?"]


@dataclass
class Patient:
    """What the test writes, and what the figures are computed from."""

    received: dt.datetime
    dob: dt.date | None
    flags: dict[str, bool]
    referrer: tuple[str, str | None]
    town: tuple[str | None, str | None]
    status: str = "waiting"
    resolved: dt.datetime | None = None
    resolution: str | None = None
    confirmations: list[dt.datetime] = field(default_factory=list)


def _birthday(day: dt.date, years: int, shift: int = 0) -> dt.date:
    return day.replace(year=day.year - years) + dt.timedelta(days=shift)


def patients(seed: int = 3) -> list[Patient]:
    """About sixty patients with every case the figures must tell apart."""
    rnd = random.Random(seed)
    out = []
    for i in range(54):
        received = dt.datetime(2024, 11, 1, tzinfo=dt.UTC) + dt.timedelta(
            minutes=rnd.randrange(0, 240 * 24 * 60))
        day = received.date()
        dob = rnd.choice([None, _birthday(day, rnd.randrange(0, 100), -rnd.randrange(0, 364))])
        flags = {k: rnd.random() < p for k, p in (("ald", 0.35), ("css", 0.15), ("ame", 0.05),
                                                  ("situation_complexe", 0.1),
                                                  ("mobilite_reduite", 0.1), ("urgent", 0.1))}
        p = Patient(received, dob, flags, REFERRERS[i % len(REFERRERS)], TOWNS[i % len(TOWNS)])
        roll = rnd.random()
        if roll < 0.45 and received + dt.timedelta(days=3) < NOW:
            p.resolved = received + dt.timedelta(hours=rnd.randrange(30, 24 * 120))
            if p.resolved < NOW:
                if roll < 0.3:
                    p.status, p.resolution = "resolved", RESOLUTIONS[i % 3]
                else:
                    p.status, p.resolution = "closed", CLOSINGS[i % len(CLOSINGS)]
            else:
                p.resolved = None
        elif roll < 0.55:
            p.status = "proposed"
        elif roll < 0.6:
            p.status = "incomplete"
        if p.status in ("waiting", "proposed") and rnd.random() < 0.5:
            first = received + (NOW - received) * rnd.random()
            p.confirmations = [first] + ([first + (NOW - first) / 2] if i % 3 == 0 else [])
        out.append(p)
    # Edge cases: local month boundaries, birthdays on the day, coordinator priority.
    march_end = dt.datetime(2025, 3, 31, 22, 30, tzinfo=dt.UTC)   # 1 April 00:30 in Paris
    october_like = dt.datetime(2025, 1, 31, 23, 30, tzinfo=dt.UTC)  # 1 February 00:30 in Paris
    no = dict.fromkeys(("ald", "css", "ame", "situation_complexe", "mobilite_reduite",
                        "urgent"), False)
    out += [
        Patient(march_end, _birthday(march_end.date(), 6), dict(no), REFERRERS[0], TOWNS[3]),
        Patient(october_like, _birthday(october_like.date(), 6, 1), dict(no), REFERRERS[1],
                TOWNS[3]),
        Patient(dt.datetime(2025, 2, 10, 9, tzinfo=dt.UTC), _birthday(dt.date(2025, 2, 10), 71),
                dict(no), REFERRERS[2], TOWNS[4], status="resolved",
                resolved=dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC), resolution="devenu MT"),
        Patient(dt.datetime(2025, 2, 10, 9, tzinfo=dt.UTC), _birthday(dt.date(2025, 2, 10), 71, 1),
                {**no, "urgent": True}, REFERRERS[3], TOWNS[4]),
        Patient(dt.datetime(2025, 5, 5, 9, tzinfo=dt.UTC), None, dict(no), REFERRERS[4],
                TOWNS[0]),
    ]
    return out


def build(db: Database, people: list[Patient]) -> None:
    """Write the patients through the store, as the workflows would."""
    with db.transaction() as s:
        created = []
        for i, p in enumerate(people):
            fields: dict[str, Any] = {"nom": f"PATIENT{i}", "prenom": "Test",
                                      "date_naissance": p.dob, "code_postal": p.town[0],
                                      "commune": p.town[1], "referent_structure": p.referrer[1],
                                      **{k: v for k, v in p.flags.items() if v}}
            status = EntryStatus.INCOMPLETE if p.status == "incomplete" else EntryStatus.WAITING
            entry = entries.create_entry(s, fields={k: v for k, v in fields.items() if v is not None},
                                         status=status, problems=[], now=p.received,
                                         received_at=p.received, referrer_email=p.referrer[0])
            if p.status == "proposed":
                entries.set_status(s, entry, EntryStatus.PROPOSED, now=p.received)
            if p.status in ("resolved", "closed"):
                assert p.resolved is not None
                entries.set_status(s, entry, EntryStatus(p.status), now=p.resolved,
                                   reason=p.resolution)
            for moment in p.confirmations:
                recontact.confirm(s, entry, now=moment, by="le patient")
            created.append(entry)
        # A coordinator's priority is counted apart from the referrer's "urgent".
        created[0].priority = True
        people[0].flags = {**people[0].flags, "priority": True}


# ---------------------------------------------------------------- the figures, by hand

def _age(born: dt.date | None, on: dt.date) -> int | None:
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _month(moment: dt.datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m")


def _in(moment: dt.datetime | None) -> bool:
    return moment is not None and FIRST <= moment.astimezone(PARIS).date() <= LAST


def _group(p: Patient, on: dt.date) -> str:
    f = p.flags
    return groups.priority_group(_age(p.dob, on), ald=f["ald"], css=f["css"], ame=f["ame"],
                                 urgent=f["urgent"])


def percentile_cont(values: list[int], q: float) -> float | None:
    """PostgreSQL's ``percentile_cont``."""
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low, high = math.floor(pos), math.ceil(pos)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (pos - low), 1)


def _spread(values: list[int]) -> dict[str, Any]:
    return {"count": len(values), "median_days": percentile_cont(values, 0.5),
            "p90_days": percentile_cont(values, 0.9)}


def expected(people: list[Patient]) -> dict[str, Any]:
    """The figures of the report for :data:`FIRST`–:data:`LAST` at :data:`NOW`."""
    months = [f"2025-{m:02d}" for m in range(1, 7)]
    reg = [p for p in people if _in(p.received)]
    age_at_reg = {id(p): _age(p.dob, p.received.date()) for p in people}
    by_band = dict.fromkeys(groups.AGE_BANDS, 0)
    by_group = dict.fromkeys(groups.PRIORITY_GROUPS, 0)
    by_type = dict.fromkeys(groups.REFERRER_TYPES, 0)
    by_month = dict.fromkeys(months, 0)
    for p in reg:
        by_band[groups.age_band(age_at_reg[id(p)])] += 1
        by_group[_group(p, p.received.date())] += 1
        by_type[groups.referrer_type(*p.referrer)] += 1
        by_month[_month(p.received)] += 1
    over_70 = {id(p) for p in people if (age_at_reg[id(p)] or 0) >= groups.ELDER_MIN_AGE
               and p.dob is not None}
    fragile = {id(p) for p in people if id(p) in over_70 or p.flags["ald"] or p.flags["css"]
               or p.flags["ame"] or p.flags["situation_complexe"]}
    criteria = {
        "ald": sum(p.flags["ald"] for p in reg),
        "css_ame": sum(p.flags["css"] or p.flags["ame"] for p in reg),
        "situation_complexe": sum(p.flags["situation_complexe"] for p in reg),
        "mobilite_reduite": sum(p.flags["mobilite_reduite"] for p in reg),
        "urgent": sum(p.flags["urgent"] for p in reg),
        "priorite": sum(p.flags.get("priority", False) for p in reg),
        "fragile": sum(id(p) in fragile for p in reg),
    }
    statuses = dict.fromkeys((s.value for s in EntryStatus), 0)
    for p in reg:
        statuses[p.status] += 1
    done = [p for p in people if p.status in ("resolved", "closed") and _in(p.resolved)]
    ways = dict.fromkeys(groups.WAYS, 0)
    closed = dict.fromkeys(groups.CLOSED_REASONS, 0)
    res_months = {m: dict.fromkeys(groups.WAYS, 0) for m in months}
    for p in done:
        assert p.resolved is not None
        way = "closed" if p.status == "closed" else groups.resolution_way(p.resolution)
        ways[way] += 1
        res_months[_month(p.resolved)][way] += 1
        if way == "closed":
            closed[groups.closed_reason_kind(p.resolution)] += 1
    resolved = [p for p in done if p.status == "resolved"]
    durations: dict[str, list[int]] = {g: [] for g in ("overall", *groups.PRIORITY_GROUPS)}
    for p in resolved:
        assert p.resolved is not None
        days = (p.resolved.date() - p.received.date()).days
        durations["overall"].append(days)
        durations[_group(p, p.received.date())].append(days)
    waits: dict[str, list[int]] = {g: [] for g in ("overall", *groups.PRIORITY_GROUPS)}
    for p in people:
        if p.status in ("waiting", "proposed"):
            days = (NOW.date() - p.received.date()).days
            waits["overall"].append(days)
            waits[_group(p, NOW.date())].append(days)
    all_status = dict.fromkeys((s.value for s in EntryStatus), 0)
    for p in people:
        all_status[p.status] += 1
    confirmations = dict.fromkeys(months, 0)
    for p in people:
        for moment in p.confirmations:
            if _in(moment):
                confirmations[_month(moment)] += 1
    found_total = len(resolved)
    found = {
        "ald": sum(p.flags["ald"] for p in resolved),
        "over_70": sum(id(p) in over_70 for p in resolved),
        "css_ame": sum(p.flags["css"] or p.flags["ame"] for p in resolved),
        "situation_complexe": sum(p.flags["situation_complexe"] for p in resolved),
        "under_6": sum(age_at_reg[id(p)] is not None and age_at_reg[id(p)] < 6  # type: ignore[operator]
                       for p in resolved),
        "fragile": sum(id(p) in fragile for p in resolved),
    }
    return {
        "requests": {"total": len(reg), "by_month": by_month, "by_referrer_type": by_type,
                     "by_criteria": criteria, "by_age_band": by_band,
                     "by_priority_group": by_group, "by_status": statuses},
        "resolutions": {"total": len(done), "by_month": res_months, "by_way": ways,
                        "closed_by_reason": closed},
        "time_to_resolution": {"overall": _spread(durations["overall"]),
                               "by_priority_group": {g: _spread(durations[g])
                                                     for g in groups.PRIORITY_GROUPS}},
        "still_waiting": {"overall": _spread(waits["overall"]),
                          "by_priority_group": {g: _spread(waits[g])
                                                for g in groups.PRIORITY_GROUPS}},
        "entries_by_status": all_status,
        "confirmations": {"total": sum(confirmations.values()), "by_month": confirmations},
        "found_mt": {"total": found_total, "criteria": {
            k: {"count": v, "share": round(v / found_total, 3) if found_total else None}
            for k, v in found.items()}},
    }
