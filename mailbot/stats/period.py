"""The period a report covers: local calendar days, turned into UTC instants for SQL."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from mailbot.errors import UsageError

_DAY = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
_FR_DAY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


@dataclass(frozen=True)
class Period:
    """From ``first`` to ``last`` (local calendar days, both included) in time zone ``tz``."""

    first: dt.date
    last: dt.date
    tz: ZoneInfo

    @property
    def start(self) -> dt.datetime:
        """The first instant of the period (UTC)."""
        return local_midnight(self.first, self.tz)

    @property
    def end(self) -> dt.datetime:
        """The first instant *after* the period (UTC), exclusive bound."""
        return local_midnight(self.last + dt.timedelta(days=1), self.tz)

    def months(self) -> list[str]:
        """Every month of the period, ``YYYY-MM``, in order."""
        out = []
        year, month = self.first.year, self.first.month
        while (year, month) <= (self.last.year, self.last.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def month_bounds(self) -> list[dt.datetime]:
        """UTC instants cutting the period at each local month: ``[start, 1st of next month…, end]``."""
        bounds = [self.start]
        for month in self.months()[1:]:
            year, number = (int(x) for x in month.split("-"))
            bounds.append(local_midnight(dt.date(year, number, 1), self.tz))
        bounds.append(self.end)
        return bounds

    def as_json(self) -> dict[str, str]:
        """The period as it appears in the JSON report."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "timezone": self.tz.key}


def local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """00:00 local time on ``day``, as an aware UTC instant."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(dt.UTC)


def _last_of_month(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def parse_bound(text: str, *, end: bool) -> dt.date:
    """Read ``2024-03-15``, ``15/03/2024``, ``2024-03`` or ``2024``.

    A month or a year stands for its first day in ``--from`` and its last day
    in ``--to`` (``--from 2024-01 --to 2024-06`` is the first half of 2024).
    """
    try:
        if match := _DAY.match(text):
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        if match := _FR_DAY.match(text):
            return dt.date(int(match[3]), int(match[2]), int(match[1]))
        if match := _MONTH.match(text):
            year, month = int(match[1]), int(match[2])
            return _last_of_month(year, month) if end else dt.date(year, month, 1)
        if match := _YEAR.match(text):
            year = int(match[1])
            return dt.date(year, 12, 31) if end else dt.date(year, 1, 1)
    except ValueError:
        pass
    raise UsageError(f"date « {text} » illisible (attendu : AAAA-MM-JJ, JJ/MM/AAAA, AAAA-MM ou AAAA)")


def make_period(first: str | None, last: str | None, *, today: dt.date, earliest: dt.date | None,
                tz: ZoneInfo) -> Period:
    """The period asked for on the command line.

    Without ``--from`` the period starts on the first registration on record
    (``earliest``, else ``today``); without ``--to`` it ends ``today``.
    """
    stop = parse_bound(last, end=True) if last else today
    start = parse_bound(first, end=False) if first else min(earliest or today, stop)
    if start > stop:
        raise UsageError(f"période vide : --from {start.isoformat()} est après --to {stop.isoformat()}")
    return Period(first=start, last=stop, tz=tz)
