"""The few grouped queries every figure is folded from.

A million-entry list cannot be scanned once per figure in a few seconds, so
the figures share a handful of queries (:data:`QUERIES`), each returning at
most a few thousand rows. Their shape follows what databases do fast:

* group by plain columns (status, criteria) so that PostgreSQL aggregates in
  parallel workers, and count age bands with ``FILTER`` clauses;
* count months from the index on ``received_at`` (one range count per month);
* group durations in whole days and compute the quantiles in Python from
  that histogram — exactly what ``percentile_cont`` would answer;
* run the queries at the same time on separate connections (PostgreSQL: in
  one exported snapshot, so the figures agree with each other).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, and_, func, literal, select, text
from sqlalchemy.sql.elements import ColumnElement

from mailbot.stats.groups import (
    AGE_BAND_STARTS,
    AGE_BANDS,
    ALD,
    AME,
    CHILD_MAX_AGE,
    COMPLEXE,
    CSS,
    ELDER_MIN_AGE,
    PRIORITY_GROUPS,
)
from mailbot.stats.period import Period
from mailbot.stats.sql import FLAG_COLUMNS, Dialect
from store.models import Entry, EntryEvent, EntryStatus
from store.types import UTCDateTime

QUANTILES = (0.5, 0.9)
CONFIRMED = "confirmed"  # entry_event kind of a "still looking" answer (store.recontact.confirm)
WAITING_STATUSES: tuple[str, ...] = (EntryStatus.WAITING.value, EntryStatus.PROPOSED.value)
DONE_STATUSES: tuple[str, ...] = (EntryStatus.RESOLVED.value, EntryStatus.CLOSED.value)
# The criteria the outcome figures need (fragility of those who found a doctor): the first
# four columns of FLAG_COLUMNS.
OUTCOME_FLAGS = (ALD, CSS, AME, COMPLEXE)
# Settings of the statistics transactions only: hash tables in memory; parallel workers even
# for the grouped queries whose group count the planner cannot estimate (it then evaluates
# the grouping expressions in the workers); no JIT, whose compilation in every worker costs
# more than it saves on queries of a second or less.
PG_SETTINGS = ("work_mem = '64MB'", "parallel_setup_cost = 0", "parallel_tuple_cost = 0",
               "jit = off")


class Block(NamedTuple):
    """Registrations of one (status, criteria) combination, split by age band at registration."""

    status: str
    flags: int
    bands: dict[str, int]


class Outcome(NamedTuple):
    """Resolved or closed entries of one (month, status, reason, criteria) combination, with
    how many of them were over 70 and under 6 at registration."""

    month: int | None  # index in Period.months()
    status: str
    resolution: str | None
    closed_reason: str | None
    flags: int         # OUTCOME_FLAGS bits
    n: int
    over_70: int
    under_6: int


@dataclass(frozen=True)
class Spread:
    """How many values, their median and 90th percentile (linear interpolation)."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Scope:
    """What the queries need: the dialect, the period and the report instant."""

    dialect: Dialect
    period: Period
    now: dt.datetime

    def registered(self) -> ColumnElement[bool]:
        """Entries registered during the period."""
        return self.dialect.in_range(Entry.received_at, self.period.start, self.period.end)

    def done(self) -> ColumnElement[bool]:
        """Entries resolved or closed during the period."""
        return and_(self.dialect.scanned(Entry.status).in_(DONE_STATUSES),
                    self.dialect.in_range(Entry.resolved_at, self.period.start, self.period.end))


def _flags(values: Iterable[Any]) -> int:
    return sum(1 << i for i, v in enumerate(values) if v)


# ---------------------------------------------------------------- registrations

def registrations(conn: Connection, scope: Scope) -> list[Block]:
    """Entries registered in the period by status and criteria, counted per age band.

    PostgreSQL groups by the plain columns, which lets it aggregate in parallel
    workers; SQLite (no parallelism, GROUP BY by sorting) packs the criteria in
    one integer and computes each age once in a subquery it does not flatten.
    """
    d = scope.dialect
    thresholds = [start for _name, start in AGE_BAND_STARTS]
    if d.is_postgres:
        keys: tuple[Any, ...] = (Entry.status, *FLAG_COLUMNS)
        unknown = Entry.date_naissance.is_(None)
        older = [d.older_than(Entry.received_at, y) for y in thresholds]
        source: Any = Entry
        where: list[ColumnElement[bool]] = [scope.registered()]
    else:
        source = (select(Entry.status, d.packed_flags().label("flags"),
                         d.age_gap(Entry.received_at).label("gap"))
                  .where(scope.registered()).limit(-1).subquery())
        keys = (source.c.status, source.c.flags)
        unknown = source.c.gap.is_(None)
        older = [source.c.gap >= y * 10000 for y in thresholds]
        where = []
    counts = [func.count(), func.count().filter(unknown), *[func.count().filter(o) for o in older]]
    query = select(*keys, *counts).select_from(source).where(*where).group_by(*keys)
    out = []
    for status, *row in conn.execute(query):
        flag_values, (n, nulls, *older_n) = row[:len(keys) - 1], row[len(keys) - 1:]
        flags = _flags(flag_values) if d.is_postgres else int(flag_values[0])
        bands = {"unknown": nulls, "under_6": n - nulls - older_n[0]}
        for i, (name, _start) in enumerate(AGE_BAND_STARTS):
            bands[name] = older_n[i] - (older_n[i + 1] if i + 1 < len(older_n) else 0)
        out.append(Block(str(status), flags, {b: int(bands[b]) for b in AGE_BANDS}))
    return out


def registrations_by_month(conn: Connection, scope: Scope) -> list[int]:
    """Registrations per month of the period: one range count on the ``received_at`` index each."""
    bounds = [literal(b, UTCDateTime()) for b in scope.period.month_bounds()]
    counts = [select(func.count()).select_from(Entry)
              .where(Entry.received_at >= lo, Entry.received_at < hi).scalar_subquery()
              for lo, hi in itertools.pairwise(bounds)]
    return [int(n) for n in conn.execute(select(*counts)).one()]


def referrers(conn: Connection, scope: Scope) -> list[tuple[str | None, str | None, int]]:
    """Entries registered in the period by referrer address and structure."""
    return _pairs(conn, scope, Entry.referrer_email, Entry.referent_structure)


def communes(conn: Connection, scope: Scope) -> list[tuple[str | None, str | None, int]]:
    """Entries registered in the period by postal code and commune."""
    return _pairs(conn, scope, Entry.code_postal, Entry.commune)


def _pairs(conn: Connection, scope: Scope, first: Any,
           second: Any) -> list[tuple[str | None, str | None, int]]:
    # SQLite would walk the index on code_postal to group without sorting, fetching every
    # row from it: reading the table and sorting is much faster.
    keys = (scope.dialect.scanned(first), scope.dialect.scanned(second))
    query = select(*keys, func.count()).where(scope.registered()).group_by(*keys)
    return [(a, b, int(n)) for a, b, n in conn.execute(query)]


# ---------------------------------------------------------------- outcomes

def outcomes(conn: Connection, scope: Scope) -> list[Outcome]:
    """Entries resolved or closed in the period by month of resolution, status and reason, and
    criteria — what both the exits per month and the ACI indicator are folded from."""
    d = scope.dialect
    width = len(OUTCOME_FLAGS)
    keys = (d.bucket(Entry.resolved_at, scope.period.month_bounds(), guard=False), Entry.status,
            Entry.resolution, Entry.closed_reason, *FLAG_COLUMNS[:width])
    counts = (func.count(), func.count().filter(d.older_than(Entry.received_at, ELDER_MIN_AGE)),
              func.count().filter(~d.older_than(Entry.received_at, CHILD_MAX_AGE + 1)))
    query = select(*keys, *counts).where(scope.done()).group_by(*keys)
    out = []
    for row in conn.execute(query):
        values: list[Any] = list(row)
        month, status, resolution, reason = values[:4]
        n, over_70, under_6 = (int(x) for x in values[4 + width:])
        out.append(Outcome(None if month is None else int(month), str(status), resolution, reason,
                           _flags(values[4:4 + width]), n, over_70, under_6))
    return out


def statuses(conn: Connection, scope: Scope) -> dict[str, int]:
    """Every entry on record by current status."""
    del scope
    query = select(Entry.status, func.count()).group_by(Entry.status)
    return {str(status): int(n) for status, n in conn.execute(query)}


def confirmations(conn: Connection, scope: Scope) -> list[int]:
    """"Still looking" confirmations (by mail or phone) recorded in each month of the period.

    Every confirmation is an ``entry_event`` of kind ``confirmed`` (issue 6).
    """
    d = scope.dialect
    bucket = d.bucket(EntryEvent.at, scope.period.month_bounds(), guard=False)
    query = (select(bucket, func.count())
             .where(EntryEvent.kind == CONFIRMED,
                    d.in_range(EntryEvent.at, scope.period.start, scope.period.end))
             .group_by(bucket))
    out = [0] * len(scope.period.months())
    for month, n in conn.execute(query):
        out[int(month)] += int(n)
    return out


# ---------------------------------------------------------------- durations

def resolution_times(conn: Connection, scope: Scope) -> dict[str, Spread]:
    """Days from registration to resolution of the entries *resolved* (not closed) in the
    period, overall and per priority group at registration."""
    d = scope.dialect
    where = and_(scope.done(), Entry.status == EntryStatus.RESOLVED.value)
    return _day_spreads(conn, d.priority_group(Entry.received_at),
                        d.whole_days(Entry.received_at, Entry.resolved_at), where)


def waiting_times(conn: Connection, scope: Scope) -> dict[str, Spread]:
    """Days waited so far by the entries still waiting, overall and per priority group today."""
    d = scope.dialect
    today = scope.now.date()
    return _day_spreads(conn, d.priority_group(today), d.whole_days(Entry.received_at, today),
                        d.scanned(Entry.status).in_(WAITING_STATUSES))


def _day_spreads(conn: Connection, group: ColumnElement[Any], days: ColumnElement[Any],
                 where: ColumnElement[bool]) -> dict[str, Spread]:
    query = select(group, days, func.count()).where(where).group_by(group, days)
    histograms: dict[str, dict[int, int]] = {"overall": {}}
    for g, day, n in conn.execute(query):
        for name in ("overall", str(g)):
            bins = histograms.setdefault(name, {})
            bins[int(day)] = bins.get(int(day), 0) + int(n)
    return {g: spread_of(histograms.get(g, {})) for g in ("overall", *PRIORITY_GROUPS)}


def spread_of(histogram: dict[int, int]) -> Spread:
    """Count, median and p90 of the values of ``{value: how many}`` — ``percentile_cont``'s
    linear interpolation between the two ranks around ``1 + q (n - 1)``."""
    n = sum(histogram.values())
    if n == 0:
        return Spread(0, None, None)
    ordered = sorted(histogram.items())

    def at_rank(rank: int) -> int:  # 1-based
        seen = 0
        for value, count in ordered:
            seen += count
            if seen >= rank:
                return value
        return ordered[-1][0]  # pragma: no cover - rank <= n

    quantiles = []
    for q in QUANTILES:
        pos = 1 + q * (n - 1)
        low, high = at_rank(math.floor(pos)), at_rank(math.ceil(pos))
        quantiles.append(round(low + (high - low) * (pos - math.floor(pos)), 1))
    return Spread(n, *quantiles)


# ---------------------------------------------------------------- running them

QUERIES: dict[str, Callable[[Connection, Scope], Any]] = {
    "registrations": registrations, "waiting_times": waiting_times, "outcomes": outcomes,
    "referrers": referrers, "communes": communes,
    "resolution_times": resolution_times,
    "registrations_by_month": registrations_by_month, "confirmations": confirmations,
    "statuses": statuses,
}


@contextmanager
def _snapshot(engine: Engine) -> Iterator[str | None]:
    """PostgreSQL: a repeatable-read transaction whose snapshot the other connections share."""
    if engine.dialect.name != "postgresql":
        yield None
        return
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, \
            conn.begin():
        yield str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())


def _run_one(engine: Engine, snapshot: str | None, scope: Scope,
             jobs: dict[str, Callable[[Connection, Scope], Any]]) -> dict[str, Any]:
    """Run ``jobs`` on one new connection (PostgreSQL: in ``snapshot``, with more work_mem)."""
    if engine.dialect.name != "postgresql":
        with engine.connect() as conn, conn.begin():
            return {name: job(conn, scope) for name, job in jobs.items()}
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, \
            conn.begin():
        if snapshot is not None:
            conn.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
        for setting in PG_SETTINGS:
            conn.execute(text(f"SET LOCAL {setting}"))
        return {name: job(conn, scope) for name, job in jobs.items()}


def run_queries(bind: Engine | Connection, scope: Scope, *, parallel: int = 4) -> dict[str, Any]:
    """Every query of :data:`QUERIES`: on ``parallel`` connections of an engine at once, or one
    after the other on a single connection."""
    if isinstance(bind, Connection):
        return {name: job(bind, scope) for name, job in QUERIES.items()}
    if parallel <= 1:
        return _run_one(bind, None, scope, QUERIES)
    with _snapshot(bind) as snapshot, ThreadPoolExecutor(max_workers=parallel) as pool:
        futures = [pool.submit(_run_one, bind, snapshot, scope, {name: job})
                   for name, job in QUERIES.items()]
        results: dict[str, Any] = {}
        for future in futures:
            results.update(future.result())
        return results
