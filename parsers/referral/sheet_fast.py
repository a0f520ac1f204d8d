"""A plain workbook's cell values read with python-calamine (Rust), several times faster than
openpyxl, for :func:`parsers.referral.sheet_bytes.xlsx_rows`.

Only for workbooks that calamine reads exactly as openpyxl would: no formula and no error
cell (calamine cannot tell a formula from its value), worksheets small enough to be read
whole (openpyxl streams the larger ones and stops at the row limit). Values are given the
shapes openpyxl gives them: an empty cell is ``None``, a whole number an ``int``, a date a
``datetime``. Text cells are kept as written (``=``, ``+``, ``-``, ``@`` included).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any

MAX_FAST_BYTES = 16 * 1024 * 1024   # uncompressed worksheet XML read whole (≈ 40 000 rows)
# A formula (<f>) or a cell of type error (t="e"): such workbooks are read by openpyxl.
_NOT_PLAIN = re.compile(rb"<(?:\w+:)?f[\s>/]|\st\s*=\s*[\"']e[\"']")
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_DATE_1904 = re.compile(rb"date1904\s*=\s*[\"'](?:1|true)[\"']", re.IGNORECASE)


def scan(archive: zipfile.ZipFile) -> tuple[bool, bool]:
    """``(formulas, plain)`` for a workbook: whether a worksheet holds a formula, and whether
    calamine may read it (no formula, no error cell, worksheets of bounded size)."""
    formulas, plain, size = False, True, 0
    for info in archive.infolist():
        if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
            size += info.file_size
            with archive.open(info) as member:
                xml = member.read()
            found = _NOT_PLAIN.search(xml)
            if found is not None:
                plain = False
                formulas = formulas or _FORMULA_TAG.search(xml, found.start()) is not None
                if formulas:
                    break
    return formulas, plain and size <= MAX_FAST_BYTES


def epoch_1904(archive: zipfile.ZipFile) -> bool:
    """Whether the workbook counts its dates from 1904 (old Mac Excel)."""
    with archive.open("xl/workbook.xml") as member:
        return _DATE_1904.search(member.read()) is not None


def _value(cell: Any) -> Any:
    """A calamine value in the shape openpyxl gives it."""
    if cell == "":
        return None
    if type(cell) is float and cell.is_integer() and abs(cell) < 2 ** 53:
        return int(cell)
    if type(cell) is dt.date:
        return dt.datetime(cell.year, cell.month, cell.day)
    return cell


def read_plain(data: bytes, max_rows: int) -> list[tuple[str, list[list[Any]]]] | None:
    """Each worksheet's name and rows (at most ``max_rows``; ``None`` when there are more).

    Raises what calamine raises on a workbook it cannot read (the caller falls back to
    openpyxl)."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        sheets = []
        for meta in book.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            rows = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            if len(rows) > max_rows:
                return None
            plain = (str, int, bool)
            sheets.append((meta.name, [
                [cell if type(cell) in plain and cell != "" else _value(cell) for cell in row]
                for row in rows]))
        return sheets
    finally:
        book.close()
