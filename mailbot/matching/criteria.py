"""Priority groups (as SQL conditions and as Python tests) and the age bands a GP may accept.

A group's rule is written twice, once for the database (the policy's
``ORDER BY``) and once for one loaded entry (explanations, fairness report);
tests check they agree. Group keys and age limits are those of the
statistics (:mod:`mailbot.stats.groups`), so the fairness report and
``mailbot stats`` count the same people in the same group.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_

from mailbot.stats.groups import CHILD_MAX_AGE, ELDER_MIN_AGE
from store.models import Entry


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_on(birth: dt.date | None, day: dt.date) -> int | None:
    """Age in full years on ``day``."""
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _age_at_least(years: int, today: dt.date) -> ColumnElement[bool]:
    return Entry.date_naissance <= years_before(today, years)


def _age_below(years: int, today: dt.date) -> ColumnElement[bool]:
    return Entry.date_naissance > years_before(today, years)


# ---------------------------------------------------------------- priority groups


@dataclass(frozen=True)
class Group:
    """A priority criterion: its key, its French label, and how to test it."""

    key: str
    label: str
    sql: Callable[[dt.date], ColumnElement[bool]]
    test: Callable[[Any, dt.date], bool]


def _is_child(row: Any, today: dt.date) -> bool:
    age = age_on(row.date_naissance, today)
    return age is not None and age <= CHILD_MAX_AGE


def _is_elder(row: Any, today: dt.date) -> bool:
    age = age_on(row.date_naissance, today)
    return age is not None and age >= ELDER_MIN_AGE


def _flag(name: str, label: str) -> Group:
    column = getattr(Entry, name)
    return Group(name, label, lambda today: column.is_(True),
                 lambda row, today: bool(getattr(row, name)))


_ALL: tuple[Group, ...] = (
    Group("under_6", "enfant de moins de 6 ans",
          lambda today: _age_below(CHILD_MAX_AGE + 1, today), _is_child),
    Group("over_70", "plus de 70 ans", lambda today: _age_at_least(ELDER_MIN_AGE, today), _is_elder),
    _flag("ald", "ALD"),
    Group("css_ame", "CSS ou AME", lambda today: or_(Entry.css.is_(True), Entry.ame.is_(True)),
          lambda row, today: bool(row.css or row.ame)),
    _flag("urgent", "signalé urgent"),
    _flag("situation_complexe", "situation complexe"),
    _flag("mobilite_reduite", "mobilité réduite"),
    Group("priorite", "prioritaire (décision de la coordination)",
          lambda today: Entry.priority.is_(True), lambda row, today: bool(row.priority)),
)
GROUPS: dict[str, Group] = {group.key: group for group in _ALL}
GROUP_KEYS: tuple[str, ...] = tuple(GROUPS)
DEFAULT_GROUPS: tuple[str, ...] = ("under_6", "over_70", "ald", "css_ame", "urgent")
OTHER = "other"


def group_of(row: Any, order: Sequence[str], today: dt.date) -> str:
    """The first group of ``order`` the entry belongs to, else ``"other"``."""
    for key in order:
        if GROUPS[key].test(row, today):
            return key
    return OTHER


def group_label(key: str) -> str:
    """French label of a group key."""
    return GROUPS[key].label if key in GROUPS else "sans critère de priorité"


# ---------------------------------------------------------------- age bands a GP accepts
# (tested on loaded rows: mailbot.matching.pool.Rules)

# key → (youngest, oldest) in full years; ``None`` = no upper limit.
AGE_BANDS: dict[str, tuple[int, int | None]] = {
    "0-5": (0, 5), "6-17": (6, 17), "18-69": (18, 69), "70+": (70, None),
}

__all__ = ["AGE_BANDS", "DEFAULT_GROUPS", "GROUPS", "GROUP_KEYS", "OTHER", "age_on", "group_label",
           "group_of", "years_before"]
