"""Spreadsheet cells that cannot run: a text starting with ``=``, ``+``, ``-`` or ``@`` (or a
tab or carriage return) is a formula to Excel and LibreOffice ("CSV injection"); prefixed
with ``'`` it is shown as written. Pure functions, no IO."""

from __future__ import annotations

import re

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d[\d ]*(?:[.,]\d+)?$")


def neutralise(value: object) -> object:
    """``"=HYPERLINK(…)"`` → ``"'=HYPERLINK(…)"``; other values (numbers, ``-12``, a phone
    number ``+33612345678``) unchanged."""
    if isinstance(value, str) and value.startswith(_TRIGGERS) and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralise_row(values: list[object]) -> list[object]:
    """:func:`neutralise` on every cell of a row."""
    return [neutralise(v) for v in values]
