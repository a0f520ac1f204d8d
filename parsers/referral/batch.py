"""A batch of referrals attached as a spreadsheet (CSV or XLSX): one form per row.

The header row is found with the mapping ``mailbot import`` uses
(:mod:`parsers.referral.columns`); each cell is read as the text a referrer would
have typed (:mod:`parsers.referral.cells`) and each row goes through the body
form's checks (:func:`parsers.referral.assemble.assemble`). A row with a problem
never stops the others: it gets its own problems, or a rejection reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from parsers.referral.assemble import assemble
from parsers.referral.cells import cell_text
from parsers.referral.columns import IMPORT_KEYS, find_header
from parsers.referral.labels import IGNORED
from parsers.referral.sheet_bytes import Formula, SheetProblem, SheetRows, csv_rows, xlsx_rows
from parsers.referral.types import FieldProblem, ReferralForm


@dataclass(frozen=True)
class BatchRow:
    """One data row: its number as the spreadsheet shows it, and its form or why it is refused."""

    sheet: str
    number: int
    form: ReferralForm | None = None
    rejected: str = ""


@dataclass(frozen=True)
class Batch:
    """The rows of an attached spreadsheet, and what the partner should know about the file."""

    rows: tuple[BatchRow, ...]
    notes: tuple[str, ...] = ()


def _formula_problem(key: str, formula: Formula) -> FieldProblem:
    text = formula.text if len(formula.text) <= 40 else formula.text[:39] + "…"
    return FieldProblem(key, "invalid", f"cellule calculée par une formule ({text}) sans valeur "
                                        "enregistrée : écrivez la valeur elle-même")


def _read_row(sheet: SheetRows, number: int, cells: list[Any], keys: dict[int, str],
              today: dt.date) -> BatchRow | None:
    if not any(c not in (None, "") and str(c).strip() for c in cells):
        return None  # empty rows are not referrals
    entries: list[tuple[str, str]] = []
    formula_problems: list[FieldProblem] = []
    for index, key in sorted(keys.items()):
        if key == IGNORED or key in IMPORT_KEYS or index >= len(cells):
            continue
        value = cells[index]
        if isinstance(value, Formula):
            formula_problems.append(_formula_problem(key, value))
            continue
        text = cell_text(key, value, epoch_1904=sheet.epoch_1904)
        if text:
            entries.append((key, text))
    fields, problems = assemble(entries, today=today, partial=False)
    if not (fields.get("nom") or fields.get("ins")):
        return BatchRow(sheet.name, number, rejected="ni nom ni INS : patient impossible à "
                                                      "identifier")
    seen = frozenset(k for k, _ in entries)
    known = {p.key for p in formula_problems}
    problems = tuple(formula_problems) + tuple(p for p in problems if p.key not in known)
    return BatchRow(sheet.name, number, ReferralForm(fields=fields, problems=problems, seen=seen))


def rows_of(sheets: list[SheetRows], *, today: dt.date) -> Batch | SheetProblem:
    """Every data row of the sheets whose header is recognised."""
    rows: list[BatchRow] = []
    notes: list[str] = []
    headed = False
    for sheet in sheets:
        header = find_header(sheet.rows, {})
        if header is None:
            continue
        headed = True
        for number, cells in enumerate(sheet.rows[header.row:], start=header.row + 1):
            row = _read_row(sheet, number, cells, header.keys, today)
            if row is not None:
                rows.append(row)
        if sheet.formulas:
            notes.append("le tableau contient des formules : nous avons lu les valeurs "
                         "calculées, sans jamais exécuter les formules")
    if not any(sheet.rows for sheet in sheets):
        return SheetProblem("empty", "le tableau est vide")
    if not headed:
        return SheetProblem("no_header", "aucune ligne d'en-tête reconnue (il faut au moins "
                                         "les colonnes Nom, Prénom et Date de naissance)")
    if not rows:
        return SheetProblem("empty", "le tableau n'a aucune ligne de patient sous l'en-tête")
    return Batch(rows=tuple(rows), notes=tuple(dict.fromkeys(notes)))


def read_batch(data: bytes, *, xlsx: bool, name: str = "", today: dt.date
               ) -> Batch | SheetProblem:
    """An attached CSV (``xlsx`` false) or XLSX file as its rows' forms. Never raises."""
    sheets = xlsx_rows(data) if xlsx else csv_rows(data, name)
    if isinstance(sheets, SheetProblem):
        return sheets
    return rows_of(sheets if isinstance(sheets, list) else [sheets], today=today)
