"""A CSV or XLSX file's bytes → rows of cell values (shared with ``mailbot import``).

CSV: UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1252; separators
``;``, ``,``, tab or ``|``. XLSX: read from memory after :mod:`parsers.referral.zip_guard`,
with python-calamine when the workbook has no formula nor error cell (:mod:`.sheet_fast`),
else with openpyxl; a workbook with macros (``vbaProject.bin``) is not opened; a formula cell gives its last computed value, or :class:`Formula` when
the file never computed it. Text cells are kept as written (``=``, ``+``, ``-``, ``@``
included). Problems are returned as :class:`SheetProblem`, never raised.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from parsers.referral.sheet_fast import epoch_1904, read_plain, scan
from parsers.referral.zip_guard import ZipProblem, open_zip

SNIFF_DELIMITERS = ";,\t|"
MAX_ROWS = 10000


@dataclass(frozen=True)
class Formula:
    """A formula cell the file holds no computed value for (never evaluated here)."""

    text: str


@dataclass(frozen=True)
class SheetProblem:
    """Why a file gives no rows: ``code`` for the program, ``message`` in French."""

    code: str  # "macros", "corrupt", "empty", "too_many_rows", "bomb", "path"
    message: str


@dataclass
class SheetRows:
    """One sheet's rows (lists of cell values), and whether formulas were met."""

    name: str
    rows: list[list[Any]] = field(default_factory=list)
    formulas: bool = False
    epoch_1904: bool = False


def decode(raw: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding found: UTF-8 (with or without BOM), UTF-16
    with BOM (Excel's "Unicode text"), else Windows-1252 as Excel saves in France."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw.decode("utf-8-sig"), "utf-8-sig"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter of a CSV text: ``;`` (French Excel), ``,``, tab or ``|``."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    sample = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=SNIFF_DELIMITERS).delimiter
    except csv.Error:
        pass
    # The delimiter found the same number of times on most lines wins.
    best, best_score = ";", -1
    for candidate in SNIFF_DELIMITERS:
        counts = [line.count(candidate) for line in lines]
        if not counts or max(counts) == 0:
            continue
        common = max(set(counts), key=counts.count)
        score = counts.count(common) * 100 + common
        if common and score > best_score:
            best, best_score = candidate, score
    return best


def _too_many() -> SheetProblem:
    return SheetProblem("too_many_rows", f"le tableau dépasse {MAX_ROWS} lignes : envoyez-le "
                                         "en plusieurs fichiers")


def csv_rows(data: bytes, name: str = "") -> SheetRows | SheetProblem:
    """A CSV file as one sheet, whatever its encoding and delimiter."""
    text, _encoding = decode(data)
    if not text.strip():
        return SheetProblem("empty", "le fichier est vide")
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
        rows: list[list[Any]] = []
        for row in reader:
            rows.append([cell if cell.strip() else None for cell in row])
            if len(rows) > MAX_ROWS + 1:
                return _too_many()
    except csv.Error:
        return SheetProblem("corrupt", "le fichier CSV est mal formé (guillemets non refermés ?)")
    return SheetRows(name=name, rows=rows)


def xlsx_rows(data: bytes) -> list[SheetRows] | SheetProblem:
    """The sheets of a workbook: values, formula cells as their computed value or
    :class:`Formula`; a :class:`SheetProblem` for macros, a damaged file or too many rows."""
    archive = open_zip(data)
    if isinstance(archive, ZipProblem):
        return SheetProblem(archive.code, archive.message)
    names = set(archive.namelist())
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        return SheetProblem("macros", "le classeur contient des macros : nous ne l'ouvrons pas")
    if "xl/workbook.xml" not in names:
        return SheetProblem("corrupt", "le fichier n'est pas un classeur Excel (.xlsx) lisible")
    try:
        formulas, plain = scan(archive)
        if plain:
            fast = _read_fast(data, archive)
            if fast is not None:
                return fast
        return _read_workbook(data, formulas)
    except Exception:  # openpyxl raises many types on damaged workbooks
        return SheetProblem("corrupt", "le classeur est endommagé : enregistrez-le à nouveau "
                                       "en .xlsx ou en .csv")


def _read_fast(data: bytes, archive: zipfile.ZipFile) -> list[SheetRows] | SheetProblem | None:
    """A workbook without formulas read by calamine; ``None`` when calamine cannot read it
    (openpyxl then gives its own answer)."""
    try:
        sheets = read_plain(data, MAX_ROWS + 1)
        old_mac = epoch_1904(archive)
    except Exception:  # calamine raises its own errors on workbooks it cannot parse
        return None
    if sheets is None:
        return _too_many()
    return [SheetRows(name=name, rows=rows, epoch_1904=old_mac) for name, rows in sheets]


def _read_workbook(data: bytes, formulas: bool) -> list[SheetRows] | SheetProblem:
    from openpyxl import load_workbook

    values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    raw = load_workbook(io.BytesIO(data), read_only=True, data_only=False) if formulas else None
    try:
        sheets = []
        for name in values.sheetnames:
            sheet = SheetRows(name=name, formulas=formulas, epoch_1904=values.epoch.year == 1904)
            cells = raw[name].iter_rows() if raw is not None else None
            for row in values[name].iter_rows(values_only=True):
                sheet.rows.append(list(row))
                if cells is not None:
                    _mark_formulas(sheet.rows[-1], next(cells, ()))
                if len(sheet.rows) > MAX_ROWS + 1:
                    return _too_many()
            sheets.append(sheet)
        return sheets
    finally:
        values.close()
        if raw is not None:
            raw.close()


def _mark_formulas(row: list[Any], cells: Any) -> None:
    """A formula cell without a computed value becomes :class:`Formula`."""
    for index, cell in enumerate(cells):
        if getattr(cell, "data_type", None) == "f" and index < len(row) and row[index] is None:
            row[index] = Formula(str(cell.value))
