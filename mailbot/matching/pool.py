"""The waiting entries of some postal codes, best first, and each GP's compatible share of them.

One indexed query reads the compact rows of every waiting entry in the
postal codes served, already ordered by the configured policy (the database
sorts). Each postal code's entries become bit sets (one per criterion, age
band, commune); a GP's candidates are a few integer operations away — his
postal codes, communes, age bands and criteria, minus the entries proposed
to him before and those taken by another GP of the same round — and come
out best first by merging his postal codes. A round over 1 000 GPs and
100 000 entries reads the list once instead of once per GP.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import count, repeat
from typing import Any

from sqlalchemy import ColumnElement, case, select
from sqlalchemy.orm import Session

from mailbot.clock import local_date
from mailbot.config import MatchingConfig
from mailbot.matching.criteria import AGE_BANDS, years_before
from mailbot.matching.policy import order_by
from mailbot.matching.sqlfuncs import unindexed
from store.gps import commune_key
from store.models import Entry, EntryStatus
from store.models_matching import GP, Proposal

# What a GP's criteria need, as plain integers (the database orders by the policy, so no more).
ALD, COMPLEX, HOME = 1, 2, 4
BANDS = tuple(AGE_BANDS)  # the age band column holds a position in this tuple
# SQLite, more postal codes than this (a whole round): one pass over the table, then one
# sort, beats fetching nearly every row through the postal-code index (twice as fast at
# 100 000 entries). A GP's own few postal codes stay on the index.
SCAN_CODES = 8


def _flags() -> ColumnElement[int]:
    return (case((Entry.ald.is_(True), ALD), else_=0)
            + case((Entry.situation_complexe.is_(True), COMPLEX), else_=0)
            + case((Entry.mobilite_reduite.is_(True), HOME), else_=0)).label("flags")


def band_column(today: dt.date) -> ColumnElement[int]:
    """The entry's age band on ``today``, computed by the database (no date parsed in Python)."""
    whens = [(Entry.date_naissance >= years_before(today, oldest + 1) + dt.timedelta(days=1),
              BANDS.index(band))
             for band, (_, oldest) in sorted(AGE_BANDS.items(), key=lambda item: item[1][0])
             if oldest is not None]
    last = BANDS.index(max(AGE_BANDS, key=lambda band: AGE_BANDS[band][0]))
    return case((Entry.date_naissance.is_(None), -1), *whens, else_=last).label("band")


@dataclass(frozen=True)
class Rules:
    """What one GP accepts, ready to test compact rows."""

    whole: frozenset[str]                    # postal codes served entirely
    communes: dict[str, frozenset[str]]      # postal code → commune keys served
    bands: frozenset[str] | None                 # age bands accepted; None: every age
    births: tuple[tuple[dt.date, dt.date | None], ...] | None  # the same as birth dates
    ald: bool
    complex: bool
    home_visits: bool

    @classmethod
    def of(cls, gp: GP, today: dt.date) -> Rules:
        """The rules of ``gp`` on ``today`` (age bands become birth-date ranges)."""
        whole = frozenset(a.code_postal for a in gp.areas if a.commune_key is None)
        communes: dict[str, set[str]] = {}
        for area in gp.areas:
            if area.commune_key is not None and area.code_postal not in whole:
                communes.setdefault(area.code_postal, set()).add(area.commune_key)
        bands = list(gp.age_bands or [])
        births = None
        if bands and not set(bands) >= set(AGE_BANDS):
            births = tuple((years_before(today, youngest),
                            None if oldest is None else years_before(today, oldest + 1))
                           for youngest, oldest in (AGE_BANDS[b] for b in bands))
        return cls(whole, {cp: frozenset(keys) for cp, keys in communes.items()},
                   None if births is None else frozenset(bands), births,
                   gp.accepts_ald, gp.accepts_complex, gp.home_visits)

    def serves(self, code_postal: str | None, commune: str | None) -> bool:
        """Whether the GP serves this place (the commune matters for commune-only areas)."""
        if code_postal in self.whole:
            return True
        keys = self.communes.get(code_postal or "")
        return bool(keys and commune and commune_key(commune) in keys)

    @property
    def codes(self) -> frozenset[str]:
        """Every postal code the GP serves, wholly or in part."""
        return self.whole | frozenset(self.communes)

    def accepts(self, row: Any) -> bool:
        """Criteria (not places): age band, ALD, complex situation, home visits."""
        if row.ald and not self.ald:
            return False
        if row.situation_complexe and not self.complex:
            return False
        if row.mobilite_reduite and not self.home_visits:
            return False
        if self.births is None:
            return True
        birth = row.date_naissance
        return birth is not None and any(birth <= latest and (earliest is None or birth > earliest)
                                         for latest, earliest in self.births)


def _bits(positions: Iterable[int], size: int) -> int:
    """A set of positions as the bits of one integer."""
    buffer = bytearray((size + 7) // 8)
    for position in positions:
        buffer[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(buffer, "little")


def _positions(mask: int) -> Iterator[int]:
    """The positions of the bits set in ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


@dataclass
class Bucket:
    """The waiting entries of one postal code, in policy order; each criterion a bit set."""

    order: list[int]        # position → rank of the entry in the whole pool (0 = best)
    ids: list[int]          # position → entry id
    communes: list[str]     # position → commune as written
    full: int
    ald: int
    complex: int
    home: int               # mobilité réduite: needs home visits
    bands: dict[str, int]   # age band → entries in it
    taken: int = 0
    _communes: dict[str, int] | None = None

    @classmethod
    def of(cls, ranks: list[int], rows: Sequence[Any]) -> Bucket:
        """Bit sets of the rows at ``ranks`` (``(id, code_postal, commune, flags, band)``)."""
        size = len(ranks)
        members = [rows[rank] for rank in ranks]
        flags = [row[3] for row in members]
        bands = [row[4] for row in members]
        return cls(order=ranks, ids=[row[0] for row in members],
                   communes=[row[2] or "" for row in members], full=(1 << size) - 1,
                   ald=_bits([i for i, f in enumerate(flags) if f & ALD], size),
                   complex=_bits([i for i, f in enumerate(flags) if f & COMPLEX], size),
                   home=_bits([i for i, f in enumerate(flags) if f & HOME], size),
                   bands={band: _bits([i for i, b in enumerate(bands) if b == index], size)
                          for index, band in enumerate(BANDS)})

    def in_communes(self, keys: frozenset[str], fold: Callable[[str], str]) -> int:
        """Entries whose commune is one of ``keys`` (names folded by ``fold``)."""
        if self._communes is None:
            found: dict[str, list[int]] = {}
            for position, commune in enumerate(self.communes):
                found.setdefault(fold(commune), []).append(position)
            self._communes = {key: _bits(p, len(self.ids)) for key, p in found.items()}
        mask = 0
        for key in keys:
            mask |= self._communes.get(key, 0)
        return mask


@dataclass
class Pool:
    """The waiting entries of some postal codes, in policy order, bucketed by postal code."""

    buckets: dict[str, Bucket]
    where: dict[int, tuple[str, int]]  # entry id → (postal code, position)
    complex_ids: frozenset[int] = field(default_factory=frozenset)
    _folded: dict[str, str] = field(default_factory=dict)

    def _fold(self, commune: str) -> str:
        key = self._folded.get(commune)
        if key is None:
            key = self._folded[commune] = commune_key(commune)
        return key

    @classmethod
    def load(cls, session: Session, config: MatchingConfig, now: dt.datetime,
             codes: Iterable[str]) -> Pool:
        """One query: the waiting entries of ``codes``, best first under the policy."""
        wanted = sorted(set(codes))
        rows: Sequence[Any] = []
        if wanted:
            scan = len(wanted) > SCAN_CODES and session.get_bind().dialect.name == "sqlite"
            code: Any = unindexed(Entry.code_postal) if scan else Entry.code_postal
            rows = session.connection().execute(
                select(Entry.id, Entry.code_postal, Entry.commune, _flags(),
                       band_column(local_date(now)))
                .where(unindexed(Entry.status) == EntryStatus.WAITING, code.in_(wanted))
                .order_by(*order_by(config, now, scan=scan))).all()
        grouped: dict[str, list[int]] = {}
        for rank, row in enumerate(rows):
            grouped.setdefault(row[1], []).append(rank)
        buckets = {cp: Bucket.of(ranks, rows) for cp, ranks in grouped.items()}
        where: dict[int, tuple[str, int]] = {}
        for cp, bucket in buckets.items():
            where.update(zip(bucket.ids, zip(repeat(cp), count()), strict=False))
        return cls(buckets, where, frozenset(row[0] for row in rows if row[3] & COMPLEX))

    def _mask(self, rules: Rules, cp: str, excluded: int) -> int:
        bucket = self.buckets.get(cp)
        if bucket is None:
            return 0
        mask = bucket.full & ~bucket.taken & ~excluded
        if not rules.ald:
            mask &= ~bucket.ald
        if not rules.complex:
            mask &= ~bucket.complex
        if not rules.home_visits:
            mask &= ~bucket.home
        if rules.bands is not None:
            allowed = 0
            for band in rules.bands:
                allowed |= bucket.bands[band]
            mask &= allowed
        if cp not in rules.whole:
            mask &= bucket.in_communes(rules.communes.get(cp, frozenset()), self._fold)
        return mask

    def candidates(self, rules: Rules, excluded: Iterable[int] = ()) -> tuple[int, Iterator[int]]:
        """How many candidates the GP has, and their entry ids best first.

        Candidates: in his places and criteria, not taken (:meth:`take`), not
        in ``excluded`` (proposed to him before).
        """
        skip: dict[str, int] = {}
        for entry_id in excluded:
            found = self.where.get(entry_id)
            if found is not None:
                skip[found[0]] = skip.get(found[0], 0) | 1 << found[1]
        masks = {cp: self._mask(rules, cp, skip.get(cp, 0)) for cp in sorted(rules.codes)}

        def stream(cp: str, mask: int) -> Iterator[tuple[int, int]]:
            bucket = self.buckets[cp]
            for position in _positions(mask):
                yield bucket.order[position], bucket.ids[position]

        merged = heapq.merge(*(stream(cp, mask) for cp, mask in masks.items() if mask))
        return sum(mask.bit_count() for mask in masks.values()), (entry_id for _, entry_id in merged)

    def take(self, entry_id: int) -> None:
        """The entry goes to a GP: no other GP of this round gets it."""
        cp, position = self.where[entry_id]
        self.buckets[cp].taken |= 1 << position


def compatible(gp: GP, entry: Any, today: dt.date) -> bool:
    """Whether one loaded entry is in the GP's places and criteria."""
    rules = Rules.of(gp, today)
    return rules.serves(entry.code_postal, entry.commune) and rules.accepts(entry)


def proposed_before(session: Session, gp_ids: Iterable[int]) -> dict[int, set[int]]:
    """For each GP, the entries ever proposed to him (never proposed twice)."""
    ids = sorted(set(gp_ids))
    found: dict[int, set[int]] = {gp_id: set() for gp_id in ids}
    for start in range(0, len(ids), 500):
        rows = session.execute(select(Proposal.gp_id, Proposal.entry_id)
                               .where(Proposal.gp_id.in_(ids[start:start + 500])))
        for gp_id, entry_id in rows:
            found[gp_id].add(entry_id)
    return found
