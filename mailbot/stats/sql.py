"""SQL building blocks that differ between SQLite and PostgreSQL.

Timestamps are stored as naive UTC (``store.types.UTCDateTime``): on
PostgreSQL ``timestamp without time zone``, on SQLite the text
``YYYY-MM-DD HH:MM:SS.ffffff``; birth dates are ``date`` / ``YYYY-MM-DD``.
Per-row expressions are kept cheap (comparisons, integer arithmetic) because
they run on every entry of a million-row list: months are found by a binary
search written as nested ``CASE`` over month boundaries computed in Python
(exact in any time zone), ages from the calendar fields, criteria packed in
one integer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, literal, null, or_, text, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from mailbot.stats.groups import (
    AGE_BAND_STARTS,
    AGE_BANDS,
    ALD,
    AME,
    CHILD_MAX_AGE,
    COMPLEXE,
    CSS,
    ELDER_MIN_AGE,
    MOBILITE,
    PRIORITY,
    URGENT,
)
from store.models import Entry
from store.types import UTCDateTime

# Criteria packed in one integer per entry (:meth:`Dialect.packed_flags`).
ALL_FLAGS = (ALD, CSS, AME, COMPLEXE, MOBILITE, URGENT, PRIORITY)
FLAG_COLUMNS = (Entry.ald, Entry.css, Entry.ame, Entry.situation_complexe,
                Entry.mobilite_reduite, Entry.urgent, Entry.priority)


@dataclass(frozen=True)
class Dialect:
    """SQL expressions for one backend."""

    name: str  # "postgresql" or "sqlite"

    @classmethod
    def of(cls, session: Session) -> Dialect:
        """The dialect of the session's database."""
        return cls(session.get_bind().dialect.name)

    @property
    def is_postgres(self) -> bool:
        """True on PostgreSQL."""
        return self.name == "postgresql"

    # ------------------------------------------------------------ buckets

    def bucket(self, column: Any, bounds: Sequence[dt.datetime], *,
               guard: bool = True) -> ColumnElement[Any]:
        """``i`` when ``bounds[i] <= column < bounds[i + 1]``, else NULL.

        A binary search in SQL: about log2(len(bounds)) comparisons per row.
        Without ``guard`` the caller promises every row is within the bounds.
        """
        params = [literal(b, UTCDateTime()) for b in bounds]

        def tree(lo: int, hi: int) -> ColumnElement[Any]:
            if hi - lo == 1:
                return literal(lo, Integer())
            mid = (lo + hi) // 2
            return case((column < params[mid], tree(lo, mid)), else_=tree(mid, hi))

        if len(bounds) < 2:
            return null()
        inner = tree(0, len(bounds) - 1)
        if not guard:
            return inner
        return case((column.is_(None), null()), (column < params[0], null()),
                    (column >= params[-1], null()), else_=inner)

    # ------------------------------------------------------------ ages

    @staticmethod
    def age_gap(at: Any) -> ColumnElement[Any]:
        """SQLite: ``YYYYMMDD`` of ``at`` minus ``YYYYMMDD`` of the birth date, an integer whose
        ten-thousands are the age in full years (``gap >= 60000`` ⇔ 6 years old or more)."""
        def ymd(value: Any, length: int) -> ColumnElement[Any]:
            return cast(func.replace(func.substr(value, 1, length), "-", ""), Integer)

        return ymd(at, 10) - ymd(Entry.date_naissance, 10)

    def older_than(self, at: Any, years: int) -> ColumnElement[bool]:
        """Birth date at least ``years`` full years before ``at`` (a timestamp column or a date)."""
        dob = Entry.date_naissance
        if isinstance(at, dt.date):
            limit = _minus_years(at, years)
            return dob <= literal(limit if self.is_postgres else limit.isoformat())
        if self.is_postgres:
            return dob <= cast(at - text(f"interval '{int(years)} years'"), dob.type)
        return self.age_gap(at) >= years * 10000

    def band(self, at: Any) -> ColumnElement[Any]:
        """Index in :data:`~mailbot.stats.groups.AGE_BANDS` of the age at ``at``."""
        whens: list[tuple[ColumnElement[bool], Any]] = [
            (Entry.date_naissance.is_(None), AGE_BANDS.index("unknown"))]
        for name, start in reversed(AGE_BAND_STARTS):
            whens.append((self.older_than(at, start), AGE_BANDS.index(name)))
        return case(*whens, else_=AGE_BANDS.index("under_6"))

    def priority_group(self, at: Any) -> ColumnElement[Any]:
        """The priority group (:data:`~mailbot.stats.groups.PRIORITY_GROUPS`) at ``at``."""
        dob = Entry.date_naissance
        return case(
            (dob.is_(None), self._group_by_flags()),
            (~self.older_than(at, CHILD_MAX_AGE + 1), "under_6"),
            (self.older_than(at, ELDER_MIN_AGE), "over_70"),
            else_=self._group_by_flags(),
        )

    @staticmethod
    def _group_by_flags() -> ColumnElement[Any]:
        return case(
            (Entry.ald.is_(True), "ald"),
            (or_(Entry.css.is_(True), Entry.ame.is_(True)), "css_ame"),
            (Entry.urgent.is_(True), "urgent"),
            else_="other",
        )

    # ------------------------------------------------------------ flags and durations

    def packed_flags(self, bits: Sequence[int] = ALL_FLAGS) -> ColumnElement[Any]:
        """The criteria ``bits`` (of :data:`ALL_FLAGS`) of an entry as one integer."""
        total: ColumnElement[Any] | None = None
        for bit, column in zip(ALL_FLAGS, FLAG_COLUMNS, strict=True):
            if bit not in bits:
                continue
            # SQLite stores booleans as 0/1: no CAST, but the bound factors must stay integers.
            value: Any = cast(column, Integer) if self.is_postgres else type_coerce(column, Integer)
            term = value * bit if bit > 1 else value
            total = term if total is None else total + term
        assert total is not None
        return total

    def whole_days(self, start: Any, end: Any) -> ColumnElement[Any]:
        """Calendar days from the (UTC) date of ``start`` to that of ``end`` (a column or a date)."""
        stop: ColumnElement[Any]
        if self.is_postgres:
            stop = literal(end) if isinstance(end, dt.date) else cast(end, Entry.date_naissance.type)
            return stop - cast(start, Entry.date_naissance.type)
        stop = (literal(end.isoformat()) if isinstance(end, dt.date) else func.substr(end, 1, 10))
        return cast(func.julianday(stop) - func.julianday(func.substr(start, 1, 10)), Integer)

    def scanned(self, column: Any) -> ColumnElement[Any]:
        """``column`` as a filter that reads the table rather than an index.

        SQLite's planner, short of statistics on ranges, walks an index on
        ``received_at`` or ``status`` and fetches every row from it, which is
        many times slower than one pass over the table when the filter keeps a
        large share of the list — the usual case for statistics. ``+column``
        (SQLite's idiom) keeps the index out; PostgreSQL chooses well alone.
        """
        if self.is_postgres:
            return column
        return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)

    def in_range(self, column: Any, start: dt.datetime, end: dt.datetime) -> ColumnElement[bool]:
        """``start <= column < end``."""
        scanned = self.scanned(column)
        return and_(scanned >= literal(start, UTCDateTime()), scanned < literal(end, UTCDateTime()))


def _minus_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
