"""The calamine reader of plain workbooks gives exactly the rows openpyxl gives."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest

from parsers.referral import sheet_bytes
from parsers.referral.sheet_bytes import MAX_ROWS, Formula, SheetProblem, SheetRows, xlsx_rows
from parsers.referral.sheet_fast import scan


def _book(rows: list[list[Any]], *, second: list[list[Any]] | None = None,
          epoch_1904: bool = False, cells: dict[str, Any] | None = None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Patients"
    for row in rows:
        sheet.append(row)
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text typed as such, not a formula
    for ref, value in (cells or {}).items():
        sheet[ref] = value
    if second is not None:
        other = book.create_sheet("Suite")
        for row in second:
            other.append(row)
    if epoch_1904:
        book.epoch = dt.datetime(1904, 1, 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _by_openpyxl(data: bytes) -> list[SheetRows]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        formulas, _plain = scan(archive)
    sheets = sheet_bytes._read_workbook(data, formulas)
    assert isinstance(sheets, list)
    return sheets


ROWS = [["Nom", "Prénom", "Date de naissance", "Téléphone", "Code postal", "Accord", "Note"],
        ["DURAND", "Marie", dt.datetime(1948, 3, 12), 612345678, 1000, True, None],
        ["MARTIN", " Luc ", "02/05/1950", "06 12 34 56 78", "16000", False, "=1+1"],
        ["", None, 45292, 2.5, -3, "@dr", "+ suivi"],
        [None, None, None, None, None, None, None],
        ["BERNARD", "Léa", dt.date(2001, 1, 2), dt.time(10, 30), dt.timedelta(hours=30), 1e20, "x"]]


@pytest.mark.parametrize(("data", "old_mac"), [
    (_book(ROWS), False),
    (_book(ROWS, second=[["a", 1], [None, None, "c"]]), False),
    (_book(ROWS, epoch_1904=True), True),
    (_book([], cells={"C3": "Nom", "E6": 4}), False),
    (_book([]), False),
])
def test_plain_workbooks_give_the_rows_of_openpyxl(data: bytes, old_mac: bool) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert scan(archive) == (False, True)
    fast = xlsx_rows(data)
    assert isinstance(fast, list)
    slow = _by_openpyxl(data)
    assert [(s.name, s.formulas, s.epoch_1904) for s in fast] == [
        (s.name, s.formulas, s.epoch_1904) for s in slow]
    assert all(s.epoch_1904 is old_mac for s in fast)
    for mine, theirs in zip(fast, slow, strict=True):
        # Same values and the same types (an int stays an int, a date a datetime).
        assert [[(type(c), c) for c in row] for row in mine.rows] == [
            [(type(c), c) for c in row] for row in theirs.rows]


def test_the_plain_reader_is_the_one_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_args: object) -> None:
        raise AssertionError("openpyxl used for a plain workbook")

    monkeypatch.setattr(sheet_bytes, "_read_workbook", refused)
    sheets = xlsx_rows(_book(ROWS))
    assert isinstance(sheets, list) and sheets[0].rows[1][0] == "DURAND"


def test_formulas_and_error_cells_go_to_openpyxl() -> None:
    data = _book(ROWS[:2], cells={"G2": "=1+1"})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert scan(archive) == (True, False)
    [sheet] = xlsx_rows(data)  # type: ignore[misc]
    assert sheet.formulas and sheet.rows[1][6] == Formula("=1+1")
    errors = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_book(ROWS[:2], cells={"G2": "pending"}))) as src, \
            zipfile.ZipFile(errors, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b'<c r="G2" t="s">', b'<c r="G2" t="e">')
                body = body.replace(b'<c r="G2" t="inlineStr">', b'<c r="G2" t="e">')
            dst.writestr(item, body)
    with zipfile.ZipFile(io.BytesIO(errors.getvalue())) as archive:
        assert scan(archive) == (False, False)


def test_too_many_rows_on_the_plain_path() -> None:
    data = _book([["Nom", "Prénom"]] + [["DURAND", "Marie"]] * (MAX_ROWS + 5))
    problem = xlsx_rows(data)
    assert isinstance(problem, SheetProblem) and problem.code == "too_many_rows"
