"""Anonymise resolved and closed entries ``[intake] anonymise_after_months`` after their outcome.

The birth date gives way to a stand-in inside the same age band at
registration (half a year past the band's lower bound), so every statistic
counts the entry exactly as before; identity, contact and free text go
(:func:`store.privacy.scrub`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.stats.groups import AGE_BAND_STARTS, AGE_BANDS
from mailbot.stats.sql import Dialect
from store import privacy
from store.models import Entry

_STARTS = {"under_6": 0, **dict(AGE_BAND_STARTS)}
_HALF_YEAR = dt.timedelta(days=182)


@dataclass(frozen=True)
class Planned:
    """One entry the retention job anonymises."""

    ref: str
    status: str
    done_at: dt.datetime


def _minus_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def stand_in(received_at: dt.datetime, band: str) -> dt.date | None:
    """A birth date in ``band`` at ``received_at`` (UTC day, as the statistics read it)."""
    if band == "unknown":
        return None
    day = received_at.astimezone(dt.UTC).date()
    return _minus_years(day, _STARTS[band]) - _HALF_YEAR


def bands(session: Session, ids: list[int]) -> dict[int, str]:
    """The age band at registration of each entry, computed by the statistics' own SQL."""
    found: dict[int, str] = {}
    band = Dialect.of(session).band(Entry.received_at)
    for start in range(0, len(ids), 500):
        for ident, index in session.execute(select(Entry.id, band)
                                            .where(Entry.id.in_(ids[start:start + 500]))):
            found[int(ident)] = AGE_BANDS[int(index)]
    return found


def cutoff(app: App, now: dt.datetime) -> dt.datetime:
    """Outcomes on or before this instant are old enough to be anonymised."""
    months = app.config.intake.anonymise_after_months
    return now - dt.timedelta(days=round(months * 30.44))


def plan(app: App, now: dt.datetime) -> list[Planned]:
    """What :func:`apply` would anonymise at ``now`` (``mailbot retention --dry-run``)."""
    with app.db.sessions() as session:
        return [Planned(e.ref, e.status, e.resolved_at or e.status_changed_at)
                for e in privacy.due(session, before=cutoff(app, now))]


def scrub_entries(session: Session, found: list[Entry], *, now: dt.datetime, kind: str,
                  actor: str) -> dict[str, int]:
    """Scrub each entry with its band's stand-in birth date; return the summed counts."""
    band_of = bands(session, [e.id for e in found])
    total: dict[str, int] = {}
    for entry in found:
        birth = stand_in(entry.received_at, band_of.get(entry.id, "unknown"))
        counts = privacy.scrub(session, entry, now=now, birth_stand_in=birth, kind=kind, actor=actor)
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    return total


def apply(app: App, now: dt.datetime, *, batch: int = 200) -> int:
    """Anonymise every entry due at ``now``, one transaction per batch; return how many."""
    done = 0
    while True:
        with app.db.transaction() as session:
            found = privacy.due(session, before=cutoff(app, now), limit=batch)
            if not found:
                return done
            scrub_entries(session, found, now=now, kind="anonymised", actor="job:retention")
            done += len(found)
