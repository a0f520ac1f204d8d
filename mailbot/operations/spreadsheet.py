"""Tables written for a spreadsheet: CSV that French Excel opens as it is (``;``, UTF-8 BOM,
French headers and words), CSV for scripts, and XLSX workbooks with typed cells and filters.

Every cell goes through :func:`parsers.cells.neutralise`: a value starting with ``=``,
``+``, ``-`` or ``@`` never runs as a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from parsers.cells import neutralise, neutralise_row

BOM = "\ufeff"


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]], *, excel: bool) -> str:
    """A CSV document: for French Excel (``;``, BOM, CRLF) or for scripts (``,``)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";" if excel else ",",
                        lineterminator="\r\n" if excel else "\n")
    writer.writerow(neutralise_row(list(header)))
    for row in rows:
        writer.writerow(neutralise_row(["" if v is None else v for v in row]))
    return (BOM if excel else "") + buffer.getvalue()


def xlsx_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str) -> bytes:
    """A workbook of one sheet: bold frozen header, filters on every column, dates as dates
    (``jj/mm/aaaa``), numbers as numbers, texts neutralised."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(str(h)) for h in header]
    for row in rows:
        sheet.append([neutralise(v) for v in row])
        for index, value in enumerate(row):
            widths[index] = max(widths[index], min(len(str(value or "")), 60))
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "DD/MM/YYYY HH:MM"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "DD/MM/YYYY"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width + 2
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(1, len(header)))}{max(1, len(rows) + 1)}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
