"""The day a short French reply names: "le 12 janvier", "8/01", "demain", "lundi".

Reads text normalised by :func:`parsers.reply_text.normalize`. A day without
a year is the nearest such day (up to 90 days back, else next year); a weekday
is the next one after ``today``. Pure; returns ``None`` when no single day is named.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["named_day"]

MONTHS = {
    "janvier": 1, "janv": 1, "fevrier": 2, "fev": 2, "mars": 3, "avril": 4, "avr": 4, "mai": 5,
    "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9, "sept": 9, "octobre": 10,
    "oct": 10, "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
}
WEEKDAYS = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5,
            "dimanche": 6}

_WRITTEN = re.compile(
    r"\b(?:le |au |du |pour le )?(\d{1,2}|1er) (" + "|".join(MONTHS) + r")\b(?: (\d{4}))?"
)
# "8/01", "14/12", "05/01/2027", read on the raw text (normalising drops the slashes).
_NUMERIC = re.compile(r"\b(\d{1,2}) ?/ ?(\d{1,2})(?: ?/ ?(\d{2,4}))?\b")
# "rdv le 9": a day of the month alone, after a word of appointment (next such day).
_DAY_ONLY = re.compile(
    r"\b(?:rdv|rendez vous|consultation|consult|vient|viendra|vois|revois|verrai|reverrai)"
    r"(?: (?:prevue?|fixee?|pris|programmee?|reportee?))? (?:le|au|pour le) (\d{1,2}|1er)\b"
    r"(?! (?:" + "|".join(MONTHS) + r"|mois|jours?|ans?|h|heures?)\b)(?! ?/)"
)
_RELATIVE = {"demain": 1, "apres demain": 2, "aujourd'hui": 0, "ce jour": 0}
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\b")
_RECENT = dt.timedelta(days=90)  # a day-month this far back is in the past, not next year


def _build(year: int | None, month: int, day: int, today: dt.date) -> dt.date | None:
    try:
        if year is not None:
            return dt.date(year if year > 99 else 2000 + year, month, day)
        candidate = dt.date(today.year, month, day)
        if candidate < today - _RECENT:  # "12 janvier" written in December: next year
            candidate = dt.date(today.year + 1, month, day)
        return candidate
    except ValueError:
        return None


def named_day(norm: str, raw: str, today: dt.date) -> dt.date | None:
    """The one day named in a reply (``norm`` normalised, ``raw`` as written), or ``None``.

    Two different days named ("annulé le 3, reporté au 12 janvier") give the
    latest one that is not in the past: the next appointment.
    """
    days: set[dt.date] = set()
    for m in _WRITTEN.finditer(norm):
        day = 1 if m.group(1) == "1er" else int(m.group(1))
        found = _build(int(m.group(3)) if m.group(3) else None, MONTHS[m.group(2)], day, today)
        if found:
            days.add(found)
    for m in _NUMERIC.finditer(raw):
        day, month = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12:
            found = _build(int(m.group(3)) if m.group(3) else None, month, day, today)
            if found:
                days.add(found)
    for m in _DAY_ONLY.finditer(norm):
        day = 1 if m.group(1) == "1er" else int(m.group(1))
        month, year = today.month, today.year
        for _ in range(2):  # this month, else the next one
            found = _build(year, month, day, today)
            if found is not None and found >= today:
                days.add(found)
                break
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
    for word, offset in _RELATIVE.items():
        if re.search(r"\b" + word + r"\b", norm):
            days.add(today + dt.timedelta(days=offset))
    for m in _WEEKDAY.finditer(norm):
        ahead = (WEEKDAYS[m.group(1)] - today.weekday()) % 7 or 7
        days.add(today + dt.timedelta(days=ahead))
    future = sorted(d for d in days if d >= today)
    return future[-1] if future else None
