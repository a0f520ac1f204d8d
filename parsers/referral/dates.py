"""Birth dates as referrers write them: ``12/03/1948``, ``12.03.48``, ``1948-03-12``,
``1er mars 1948``, ``12031948``… → :class:`datetime.date` or a :class:`FieldProblem`."""

from __future__ import annotations

import datetime as dt
import re

from parsers.referral.labels import normalise
from parsers.referral.problems import problem, quote
from parsers.referral.types import FieldProblem

MAX_AGE = 120

_MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "mar": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12, "january": 1, "february": 2, "march": 3, "april": 4, "may": 5,
    "june": 6, "july": 7, "august": 8, "september": 9, "october": 10, "november": 11,
    "december": 12, "feb": 2, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
}
_SEP = r"\s*[-/. ]\s*"
_ISO_DATE = re.compile(rf"(?<!\d)(\d{{4}}){_SEP}(\d{{1,2}}){_SEP}(\d{{1,2}})(?!\d)")
_NUM_DATE = re.compile(rf"(?<!\d)(\d{{1,2}}){_SEP}(\d{{1,2}}){_SEP}(\d{{4}}|\d{{2}})(?!\d)")
_WORD_DATE = re.compile(
    r"(?<![0-9a-z])(\d{1,2})\s*(?:er)?\s+([a-z]{3,9})\.?\s+(\d{4}|\d{2})(?!\d)"
)
_COMPACT_DATE = re.compile(r"(\d{2})(\d{2})(\d{4}|\d{2})")


def _full_year(year: int, digits: int, day: int, month: int, today: dt.date) -> int:
    """A two-digit year is the most recent one not in the future."""
    if digits == 4:
        return year
    candidate = 2000 + year
    try:
        in_future = dt.date(candidate, month, day) > today
    except ValueError:
        in_future = candidate > today.year
    return candidate - 100 if in_future else candidate


def _find_date(raw: str) -> tuple[int, int, int, int] | None:
    """(day, month, year, digits of the year) of the first date written in ``raw``."""
    for pattern, order in ((_ISO_DATE, (3, 2, 1)), (_NUM_DATE, (1, 2, 3))):
        match = pattern.search(raw)
        if match:
            day, month, year = (match[i] for i in order)
            return int(day), int(month), int(year), len(year)
    folded = " ".join(normalise(word) or word for word in raw.split())
    match = _WORD_DATE.search(folded)
    if match and match[2] in _MONTHS:
        return int(match[1]), _MONTHS[match[2]], int(match[3]), len(match[3])
    match = _COMPACT_DATE.fullmatch(raw.strip())
    if match:
        return int(match[1]), int(match[2]), int(match[3]), len(match[3])
    return None


def parse_date(raw: str, *, today: dt.date, key: str = "date_naissance") -> dt.date | FieldProblem:
    """Read a birth date (``12/03/1948``, ``12.03.48``, ``1948-03-12``, ``1er mars 1948``…).

    Non-existent dates, dates after ``today`` and ages above 120 are ``impossible``.
    """
    found = _find_date(raw)
    if found is None:
        return problem(key, "invalid", f"la date {quote(raw)} n'est pas lisible")
    day, month, year, digits = found
    year = _full_year(year, digits, day, month, today)
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return problem(key, "impossible", f"la date {quote(raw)} n'existe pas")
    if value > today:
        return problem(key, "impossible", f"la date {quote(raw)} est dans le futur")
    age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
    if age > MAX_AGE:
        return problem(
            key, "impossible", f"la date {quote(raw)} donnerait un âge de plus de {MAX_AGE} ans"
        )
    return value
