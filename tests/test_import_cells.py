"""``mailbot import`` never drops a real patient: names that look like "nothing", impossible
dates quoted, unreadable yes/no reported, postal codes found from the commune, a report
listing every row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailbot.importer.answers import read_name, read_yes_no
from mailbot.importer.communes import postal_codes
from tests.helpers import Bot

AT = ["--at", "2025-06-30T10:00"]
HEADER = ["Nom", "Prénom", "Date de naissance", "Téléphone", "Code postal", "Commune", "ALD",
          "Accord du patient"]


def _csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    path.write_text("\n".join(";".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def _rows(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {r["row"]: r for r in report["rows"]}


@pytest.mark.parametrize("name", ["Sans", "Rien", "Néant", "Vide", "Aucun", "SANS", "Aucune"])
def test_a_surname_or_first_name_that_reads_like_nothing_is_kept(name: str) -> None:
    assert read_name("nom", name) == name
    assert read_name("prenom", name) == name


@pytest.mark.parametrize("blank", ["NC", "-", "?", "x", "non renseigné", "  "])
def test_a_name_cell_is_empty_only_when_the_whole_cell_is_a_marker(blank: str) -> None:
    assert read_name("nom", blank) is None


def test_yes_no_cells() -> None:
    assert read_yes_no("ald", "oui") == (True, "")
    assert read_yes_no("ald", "X") == (True, "")
    assert read_yes_no("ald", "") == (None, "")
    value, why = read_yes_no("ald", "peut-être")
    assert value is None and "« peut-être »" in why and why.startswith("ALD")
    value, why = read_yes_no("css", "X", x_means_yes=False)
    assert value is None and "« X »" in why and "oui" in why


def test_postal_codes_from_the_official_base() -> None:
    assert postal_codes("Angoulême") == ["16000"]
    assert postal_codes("saint-laurent-de-cognac") == ["16100"]
    assert postal_codes("Courcôme") == ["16240", "16700"]  # two codes in the département
    assert postal_codes("Chalais") == ["16210", "24800", "86200"]
    assert postal_codes("Chalais", ["16"]) == ["16210"]    # one in the territory
    assert postal_codes("Paris") == []


def test_real_names_kept_dates_quoted_answers_reported_codes_filled(bot: Bot,
                                                                   tmp_path: Path) -> None:
    path = _csv(tmp_path / "liste.csv", [
        ["SANS", "Marie", "12/03/1948", "0612345678", "16000", "Angoulême", "oui", "oui"],  # 2
        ["DUPONT", "Rien", "12/03/1950", "0612345679", "16000", "Angoulême", "non", "oui"],  # 3
        ["NÉANT", "Vide", "12/03/1951", "0612345670", "16000", "Angoulême", "", "oui"],  # 4
        ["Aucun", "Paul", "31/02/1980", "0612345671", "16000", "Angoulême", "", "oui"],  # 5
        ["MARTIN", "Léa", "01/01/1970", "0612345672", "16000", "Angoulême", "peut-être",
         "oui"],  # 6
        ["PETIT", "Jean", "01/01/1971", "0612345673", "16000", "Angoulême", "X", "oui"],  # 7
        ["ROBERT", "Anne", "01/01/1972", "0612345674", "", "Cognac", "", "oui"],  # 8
        ["LEROY", "Guy", "01/01/1973", "0612345675", "", "Courcôme", "", "oui"],  # 9
        ["NC", "", "01/01/1974", "0612345676", "16000", "Angoulême", "", "oui"],  # 10
        ["SANS", "Marie", "12/03/1948", "0612345678", "16000", "Angoulême", "oui", "oui"],  # 11
    ])
    trial = json.loads(bot.cli("import", str(path), "--dry-run", "--format", "json",
                               *AT).stdout)
    rows = _rows(trial)
    assert rows[2]["outcome"] == rows[3]["outcome"] == rows[4]["outcome"] == "created"
    assert rows[5]["outcome"] == "incomplete"
    assert "Date de naissance (la date « 31/02/1980 » n'existe pas)" in rows[5]["detail"]
    assert any("« peut-être »" in note for note in rows[6]["notes"])
    assert any("« X »" in note for note in rows[7]["notes"])  # this ALD column writes oui/non
    assert rows[8]["outcome"] == "created"
    assert any("16100" in note for note in rows[8]["notes"])
    assert rows[9]["outcome"] == "incomplete" and "16240, 16700" in rows[9]["detail"]
    assert rows[10]["outcome"] == "rejected"
    assert rows[11]["outcome"] == "duplicate"

    text = bot.cli("import", str(path), *AT).stdout  # the real run: every row, as the trial
    for number in range(2, 12):
        assert f"ligne {number:>5}" in text
    assert "ligne     2  créée" in text and "ligne    10  rejetée" in text
    assert "1 doublon," in text and "1 rejetée," in text and "doublons" not in text
    assert "sans date d'inscription : leur rang est la date de l'import" in text
    assert text.count("date d'inscription") == 1  # one summary line, not one per row
    entries = {(e["nom"], e["prenom"]): e for e in bot.export()}
    assert {("SANS", "Marie"), ("DUPONT", "Rien"), ("NÉANT", "Vide"), ("Aucun", "Paul")} <= set(
        entries)
    assert entries[("ROBERT", "Anne")]["code_postal"] == "16100"
    assert entries[("MARTIN", "Léa")].get("ald") is not True  # not guessed
    assert entries[("PETIT", "Jean")].get("ald") is not True
    assert entries[("SANS", "Marie")]["ald"] is True


def test_the_territory_chooses_between_communes_of_the_same_name(tmp_path: Path,
                                                                 database_section: dict[str, str]
                                                                 ) -> None:
    path = _csv(tmp_path / "liste.csv", [
        ["DURAND", "Marie", "12/03/1948", "0612345678", "", "Chalais", "", "oui"]])
    bot = Bot.create(tmp_path, database_section, extra={"intake": {"postal_code_prefixes": ["16"]}})
    try:
        report = json.loads(bot.cli("import", str(path), "--format", "json", *AT).stdout)
        assert report["counts"]["created"] == 1
        assert bot.export()[0]["code_postal"] == "16210"
    finally:
        bot.close()
