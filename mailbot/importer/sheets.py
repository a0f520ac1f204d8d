"""Reading the spreadsheet a CPTS keeps today: CSV (any common encoding and delimiter) or XLSX.

Both give :class:`Sheet` objects: a name and its rows as lists of cell values
(``str``, ``int``, ``float``, ``bool``, ``datetime`` or ``None``), numbered as
the spreadsheet shows them. Merged cells of an XLSX file are filled in: every
cell of a merged range holds the range's value (a commune or a status merged
over several patients, a "Patient" title over three columns).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailbot.errors import UsageError
from parsers.referral.sheet_bytes import decode as decode
from parsers.referral.sheet_bytes import sniff_delimiter as sniff_delimiter


@dataclass
class Sheet:
    """One sheet (a CSV file is one sheet): its rows, first row numbered 1."""

    name: str
    rows: list[list[Any]] = field(default_factory=list)
    epoch_1904: bool = False  # Excel dates counted from 1904 (old Mac workbooks)
    from_csv: bool = False

    def numbered(self) -> Iterator[tuple[int, list[Any]]]:
        """``(row number, cells)`` for every row."""
        return enumerate(self.rows, start=1)


class SheetError(UsageError):
    """The file cannot be read as a spreadsheet."""


def read_sheets(path: Path, *, only: list[str] | None = None) -> list[Sheet]:
    """The sheets of ``path`` (``.csv``, ``.txt``, ``.xlsx``, ``.xlsm``), or those named in ``only``."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return read_xlsx(path, only=only)
        if suffix in (".csv", ".txt", ".tsv"):
            return [read_csv(path)]
    except OSError as error:
        raise SheetError(f"{path} : lecture impossible ({error.strerror})") from None
    raise SheetError(f"{path} : format non pris en charge (attendu : .xlsx ou .csv ; un .xls "
                     "s'enregistre en .xlsx depuis le tableur)")


# ---------------------------------------------------------------- CSV

def read_csv(path: Path) -> Sheet:
    """A CSV file as one sheet, whatever its encoding and delimiter."""
    text, _encoding = decode(path.read_bytes())
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[Any]] = [[cell if cell.strip() else None for cell in row] for row in reader]
    return Sheet(name=path.stem, rows=rows, from_csv=True)


# ---------------------------------------------------------------- XLSX

_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _column_index(letters: bytes) -> int:
    index = 0
    for char in letters:
        index = index * 26 + (char - 64)
    return index


def merged_ranges(path: Path, member: str) -> list[tuple[int, int, int, int]]:
    """``(first row, first col, last row, last col)`` of each merged range of a sheet (1-based).

    Read from the sheet's XML: openpyxl's fast read-only mode does not expose them.
    """
    with zipfile.ZipFile(path) as archive:
        data = archive.read(member.lstrip("/"))
    return [(int(r1), _column_index(c1), int(r2), _column_index(c2))
            for c1, r1, c2, r2 in _MERGE.findall(data)]


def _chosen(path: Path, names: list[str], only: list[str] | None) -> list[str]:
    """The sheets asked for (all by default); SheetError naming the sheets when one is missing."""
    if not only:
        return names
    missing = [n for n in only if n not in names]
    if missing:
        raise SheetError(f"{path} : pas de feuille « {missing[0]} » (feuilles : "
                         + ", ".join(f"« {n} »" for n in names) + ")")
    return [n for n in names if n in only]


def read_xlsx(path: Path, *, only: list[str] | None = None) -> list[Sheet]:
    """The sheets of a workbook, values only (dates as ``datetime``), merged cells filled in
    (openpyxl, read-only mode)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise SheetError(f"{path} : classeur illisible ({error})") from None
    try:
        names = _chosen(path, workbook.sheetnames, only)
        sheets = []
        for name in names:
            worksheet = workbook[name]
            sheet = Sheet(name=name, epoch_1904=workbook.epoch.year == 1904)
            try:
                sheet.rows = [list(row) for row in worksheet.iter_rows(values_only=True)]
            except (IndexError, KeyError, TypeError, ValueError) as error:
                raise SheetError(f"{path} : classeur illisible, feuille « {name} » "
                                 f"({type(error).__name__})") from None
            member = getattr(worksheet, "_worksheet_path", None)  # openpyxl's archive path
            if member:
                _fill_merged(sheet.rows, merged_ranges(path, member))
            sheets.append(sheet)
        return sheets
    finally:
        workbook.close()


def _fill_merged(rows: list[list[Any]], ranges: list[tuple[int, int, int, int]]) -> None:
    for first_row, first_col, last_row, last_col in ranges:
        if first_row > len(rows):
            continue
        top = rows[first_row - 1]
        value = top[first_col - 1] if first_col - 1 < len(top) else None
        for r in range(first_row, min(last_row, len(rows)) + 1):
            row = rows[r - 1]
            if len(row) < last_col:
                row.extend([None] * (last_col - len(row)))
            for c in range(first_col, last_col + 1):
                row[c - 1] = value
