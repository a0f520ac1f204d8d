"""A spreadsheet cell as the text a referrer would have typed (shared by ``mailbot import``
and the batches attached to mails).

Undoes what spreadsheets do to values: Excel date numbers, postal codes and phone
numbers that lost their leading zero, ``TRUE``/``FALSE`` cells. A text cell is kept
as written, ``=``, ``+``, ``-`` or ``@`` included (never evaluated).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from parsers.referral.columns import RECEIVED, RESOLVED

DATE_KEYS = frozenset({"date_naissance", RECEIVED, RESOLVED})
PHONE_KEYS = frozenset({"telephone", "referent_telephone"})


def excel_date(number: float, *, epoch_1904: bool = False) -> dt.datetime | None:
    """An Excel serial day number (``45292`` = 1 January 2024) as a date-time, if plausible."""
    if not 1 <= number <= 2958465:
        return None
    base = dt.datetime(1904, 1, 1) if epoch_1904 else dt.datetime(1899, 12, 30)
    return base + dt.timedelta(days=float(number))


def cell_text(key: str, value: Any, *, epoch_1904: bool = False) -> str:
    """A cell as the text a referrer would have typed for ``key``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, int | float):
        if key in DATE_KEYS:
            moment = excel_date(float(value), epoch_1904=epoch_1904)
            return moment.strftime("%d/%m/%Y") if moment else str(value)
        if float(value).is_integer():
            digits = str(int(value))
            if key == "code_postal" and len(digits) == 4:  # 01000 read as a number
                return "0" + digits
            if key in PHONE_KEYS and len(digits) == 9:  # 0612345678 read as a number
                return "0" + digits
            return digits
        return str(value)
    return str(value).strip()
