"""``mailbot entries export --format csv|xlsx``: the list as a coordinator opens it in Excel.

French headers and words (« En attente », oui/non, ``jj/mm/aaaa``, ``07 98 76 54 32``);
CSV with ``;`` and a UTF-8 BOM, XLSX with typed cells and filters. ``--excel-compat false``
keeps the machine CSV of spec/referral-form.md (``,``, keys, ISO dates, true/false).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from mailbot.clock import PARIS
from mailbot.operations.labels import CLOSE_REASONS, status_word
from mailbot.operations.spreadsheet import csv_text, xlsx_bytes
from parsers.people import phone_display
from parsers.referral.types import CANONICAL_KEYS, FRENCH_LABELS
from store.models import Entry

HEAD = (("ref", "Référence"), ("status", "État"), ("received_at", "Date d'inscription"),
        ("referrer_email", "Adressée par (e-mail)"), ("problems", "À compléter"))
TAIL = (("resolved_at", "Date de sortie"), ("resolution", "Issue"),
        ("closed_reason", "Motif de clôture"), ("confirmed_at", "Dernière confirmation"),
        ("priority", "Prioritaire"))
COLUMNS: tuple[tuple[str, str], ...] = (*HEAD, *((k, FRENCH_LABELS[k]) for k in CANONICAL_KEYS),
                                        *TAIL)
_PHONES = ("telephone", "referent_telephone")


def _local(moment: dt.datetime) -> dt.date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(PARIS).date()


def typed_value(entry: Entry, key: str) -> Any:
    """The cell of ``key`` for a workbook: dates as dates, yes/no as booleans, words in French."""
    if key == "status":
        return status_word(entry.status)
    if key == "problems":
        return ", ".join(dict.fromkeys(FRENCH_LABELS.get(p["key"], p["key"])
                                       for p in entry.problems)) or None
    if key == "closed_reason":
        return CLOSE_REASONS.get(entry.closed_reason or "", entry.closed_reason)
    value = getattr(entry, key, None)
    if isinstance(value, dt.datetime):
        return _local(value)
    if key in _PHONES:
        return phone_display(value) if value else None
    return value


def text_value(value: Any) -> str:
    """A typed cell as French Excel reads it in a CSV: ``12/03/1948``, ``oui``/``non``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def table(entries: Sequence[Entry]) -> tuple[list[str], list[list[Any]]]:
    """French headers and typed rows."""
    return ([label for _k, label in COLUMNS],
            [[typed_value(e, key) for key, _label in COLUMNS] for e in entries])


def excel_csv(entries: Sequence[Entry]) -> str:
    """The list as CSV for French Excel."""
    header, rows = table(entries)
    return csv_text(header, [[text_value(v) for v in row] for row in rows], excel=True)


def workbook(entries: Sequence[Entry]) -> bytes:
    """The list as an XLSX workbook."""
    header, rows = table(entries)
    return xlsx_bytes(header, rows, title="Liste d'attente")
