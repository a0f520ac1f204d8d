"""A fast reader of an XLSX sheet's values: the same values as openpyxl's read-only mode.

openpyxl builds an object per cell (styles, rich text) and parses the XML with
the standard library; a 100 000-row waitlist then takes longer to read than to
import. This reader streams the sheet's XML with lxml and keeps only what an
import needs — each cell's value, with dates styled as dates turned into
``datetime`` as openpyxl does (:func:`openpyxl.utils.datetime.from_excel`,
:func:`openpyxl.styles.numbers.is_date_format`). :func:`read_values` raises
:class:`FastReadError` on anything it does not expect; the caller then reads
the workbook with openpyxl instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import posixpath
import zipfile
from collections.abc import Iterator
from typing import Any

from lxml import etree
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_ROW, _CELL, _V, _IS, _T = (f"{{{_MAIN}}}{tag}" for tag in ("row", "c", "v", "is", "t"))
_RPH = f"{{{_MAIN}}}rPh"


class FastReadError(Exception):
    """The workbook is not laid out as this reader expects (read it with openpyxl)."""


def _xml(archive: zipfile.ZipFile, member: str) -> Any:
    try:
        return etree.fromstring(archive.read(member), etree.XMLParser(resolve_entities=False,
                                                                      huge_tree=True))
    except (KeyError, etree.XMLSyntaxError) as error:
        raise FastReadError(f"{member}: {error}") from None


def _text(node: Any) -> str:
    """The text of a shared or inline string: every ``<t>`` except phonetic runs."""
    return "".join(t.text or "" for t in node.iter(_T) if t.getparent().tag != _RPH)


class Workbook:
    """Sheet names and paths, the date epoch, shared strings and date styles of a workbook."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        book = _xml(archive, "xl/workbook.xml")
        pr = book.find(f"{{{_MAIN}}}workbookPr")
        self.epoch_1904 = pr is not None and pr.get("date1904") in ("1", "true")
        rels = _xml(archive, "xl/_rels/workbook.xml.rels")
        targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{_PKG_REL}}}Relationship")}
        self.sheets: dict[str, str] = {}
        for sheet in book.iter(f"{{{_MAIN}}}sheet"):
            target = targets.get(sheet.get(f"{{{_REL}}}id"))
            if not target:
                raise FastReadError(f"sheet {sheet.get('name')!r} without a target")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join("xl", target))
            self.sheets[str(sheet.get("name"))] = path
        if not self.sheets:
            raise FastReadError("no sheet found (another namespace?)")
        self.strings = self._shared_strings()
        self.date_styles = self._date_styles()

    def _shared_strings(self) -> list[str]:
        if "xl/sharedStrings.xml" not in self.archive.namelist():
            return []
        return [_text(si) for si in _xml(self.archive, "xl/sharedStrings.xml")]

    def _date_styles(self) -> set[int]:
        if "xl/styles.xml" not in self.archive.namelist():
            return set()
        styles = _xml(self.archive, "xl/styles.xml")
        formats: dict[int, str] = dict(BUILTIN_FORMATS)
        for fmt in styles.iter(f"{{{_MAIN}}}numFmt"):
            formats[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode", "")
        xfs = styles.find(f"{{{_MAIN}}}cellXfs")
        found = set()
        for index, xf in enumerate(xfs if xfs is not None else []):
            code = formats.get(int(xf.get("numFmtId", "0")), "")
            if code and is_date_format(code):
                found.add(index)
        return found

    def rows(self, name: str) -> list[list[Any]]:
        """Every row of sheet ``name``, row 1 first, all as wide as the widest (like openpyxl)."""
        try:
            rows = list(self._rows(self.sheets[name]))
        except (KeyError, ValueError, TypeError, IndexError, etree.Error) as error:
            raise FastReadError(f"{name}: {error}") from None
        width = max((len(row) for row in rows), default=0)
        for row in rows:
            row.extend([None] * (width - len(row)))
        return rows

    def _value(self, cell: Any) -> Any:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            node = cell.find(_IS)
            if node is None:
                return None
            if len(node) == 1 and node[0].tag == _T:  # the usual case: one plain run
                return node[0].text or ""
            return _text(node)
        raw = cell.findtext(_V)
        if raw is None or raw == "":
            return None
        if kind == "s":
            return self.strings[int(raw)]
        if kind in ("str", "e"):
            return raw
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "d":
            return dt.datetime.fromisoformat(raw.rstrip("Z"))
        number: int | float
        try:
            number = int(raw)
        except ValueError:
            number = float(raw)
        style = cell.get("s")
        if style and int(style) in self.date_styles:
            epoch = CALENDAR_MAC_1904 if self.epoch_1904 else CALENDAR_WINDOWS_1900
            try:
                return from_excel(number, epoch)
            except (OverflowError, ValueError):
                return "#VALUE!"
        return number

    def _rows(self, member: str) -> Iterator[list[Any]]:
        try:
            source = self.archive.open(member)
        except KeyError:
            raise FastReadError(f"{member} missing") from None
        with source:
            expected = 1
            for _event, row in etree.iterparse(source, tag=_ROW, huge_tree=True,
                                               resolve_entities=False):
                number = int(row.get("r") or expected)
                while expected < number:
                    yield []
                    expected += 1
                values: list[Any] = []
                for cell in row.iter(_CELL):
                    ref = cell.get("r")
                    column = _column(ref) if ref else len(values) + 1
                    if column > len(values) + 1:
                        values.extend([None] * (column - len(values) - 1))
                    values.append(self._value(cell))
                while values and values[-1] is None:
                    values.pop()
                yield values
                expected = number + 1
                row.clear()
                while row.getprevious() is not None:
                    del row.getparent()[0]


@functools.cache
def _column_of(letters: str) -> int:
    if not letters or not letters.isascii() or not letters.isalpha():
        raise FastReadError(f"cell reference {letters!r}")
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index


def _column(ref: str) -> int:
    """``"BC12"`` → 55."""
    return _column_of(ref.rstrip("0123456789"))


def read_values(archive: zipfile.ZipFile) -> Workbook:
    """The workbook of an open archive; :class:`FastReadError` when its layout is unexpected."""
    try:
        return Workbook(archive)
    except (ValueError, TypeError, IndexError) as error:
        raise FastReadError(str(error)) from None
