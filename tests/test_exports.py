"""Exports a coordinator opens in French Excel (CSV with ``;`` and BOM, XLSX with filters),
the machine CSV kept for scripts, formulas never run, and charts written the French way."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest

from mailbot.stats.charts import french_number, no_data, requests_by_referrer_type
from parsers.cells import neutralise
from tests.helpers import Bot

FORMULA = "=HYPERLINK(\"http://x.example\";\"clic\")"


@pytest.mark.parametrize(("value", "shown"), [
    ("=1+1", "'=1+1"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("+33612345678", "+33612345678"),
    ("-12", "-12"), ("Angoulême", "Angoulême"), (12, 12), (None, None),
])
def test_neutralise(value: object, shown: object) -> None:
    assert neutralise(value) == shown


def _registered(bot: Bot) -> str:
    bot.drop_example("01-dac-text-form.eml")
    bot.run_once()
    ref = bot.export()[0]["ref"]
    bot.cli("entries", "complete", ref, "--line", f"Motif : {FORMULA}")
    return str(ref)


def test_csv_for_french_excel(bot: Bot) -> None:
    ref = _registered(bot)
    raw = bot.cli("entries", "export", "--format", "csv").stdout
    assert raw.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";"))
    row = rows[0]
    assert row["Référence"] == ref and row["État"] == "En attente"
    assert row["Nom"] == "DURAND" and row["Commune"] == "Angoulême"
    assert row["Date de naissance"] == "12/03/1948"
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", row["Date d'inscription"])
    assert row["ALD"] in ("oui", "non") and row["Consentement du patient"] == "oui"
    assert row["Téléphone"] == "06 12 34 56 78"
    assert row["Motif"] == "'" + FORMULA  # shown as text, never run


def test_machine_csv_is_kept_for_scripts(bot: Bot) -> None:
    ref = _registered(bot)
    raw = bot.cli("entries", "export", "--format", "csv", "--excel-compat", "false").stdout
    assert not raw.startswith("\ufeff")
    row = next(csv.DictReader(io.StringIO(raw)))
    assert row["ref"] == ref and row["status"] == "waiting"
    assert row["date_naissance"] == "1948-03-12" and row["consentement"] == "true"
    assert row["telephone"] == "+33612345678" and row["motif"] == "'" + FORMULA


def test_xlsx_workbook_with_typed_cells_and_filters(bot: Bot, tmp_path: Path) -> None:
    ref = _registered(bot)
    out = tmp_path / "liste.xlsx"
    bot.cli("entries", "export", "--format", "xlsx", "--output", str(out))
    sheet = openpyxl.load_workbook(out).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    values = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert values["Référence"] == ref and values["État"] == "En attente"
    assert values["Date de naissance"] == dt.datetime(1948, 3, 12)  # a real date cell
    assert sheet.cell(row=2, column=header.index("Date de naissance") + 1).number_format == (
        "DD/MM/YYYY")
    assert values["Consentement du patient"] is True
    assert values["Motif"] == "'" + FORMULA
    assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
    assert sheet.freeze_panes == "A2"


def test_calls_and_stats_csv_never_run_formulas(bot: Bot) -> None:
    _registered(bot)
    stats = bot.cli("stats", "--format", "csv").stdout
    for line in csv.reader(io.StringIO(stats)):
        assert not any(cell.startswith(("=", "@")) for cell in line)
    calls = bot.cli("calls", "list", "--format", "csv").stdout
    for line in csv.reader(io.StringIO(calls)):
        assert not any(cell.startswith(("=", "@")) for cell in line)


def test_french_numbers_and_empty_charts() -> None:
    assert french_number(2.5) == "2,5" and french_number(3.0) == "3"
    assert french_number(12000) == "12\u202f000"
    empty = no_data()
    assert "aucune donnée" in empty and "xtick" not in empty and "ytick" not in empty
    report = {"requests": {"by_referrer_type": {"dac": 0, "hospital": 0}}}
    assert "aucune donnée" in (requests_by_referrer_type(report) or "")
    report = {"requests": {"by_referrer_type": {"dac": 3, "hospital": 1}}}
    drawn = requests_by_referrer_type(report) or ""
    ticks = [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", drawn) if t[:1].isdigit()]
    assert "aucune donnée" not in drawn and "xtick" in drawn
    assert ticks == ["0", "1", "2", "3"]  # whole counts only, no 0.5
