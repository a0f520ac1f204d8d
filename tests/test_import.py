"""``mailbot import``: the spreadsheet a CPTS keeps today, on SQLite and PostgreSQL, by the real CLI."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import func, select

from store import audit
from store.models import AuditRecord, Entry, EntryEvent
from store.models_coordination import ImportBatch, ImportRow
from tests.helpers import Bot

PARIS = ZoneInfo("Europe/Paris")
AT = ["--at", "2025-06-30T10:00"]


def paris_midnight(day: dt.date) -> dt.datetime:
    """Local midnight of ``day`` in UTC: how a registration date without a time is kept."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=PARIS).astimezone(dt.UTC)


def waitlist_xlsx(path: Path) -> Path:
    """A workbook like those CPTS keep: title and group headers merged, French headers as people
    write them, Excel dates and date numbers, numbers that lost their zero, a commune merged over
    two patients, blank rows, a patient twice, a "Total" row, a second sheet of patients who left
    and a sheet of figures."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "En attente"
    ws["A1"] = "CPTS du Pays d'Exemple — patients sans médecin traitant (mise à jour mars 2025)"
    ws.merge_cells("A1:N1")
    for cell, text, span in (("A2", "Patient", "A2:C2"), ("D2", "Coordonnées", "D2:E2"),
                             ("H2", "Critères", "H2:J2")):
        ws[cell] = text
        ws.merge_cells(span)
    headers = ["NOM", "Prénom", "Né(e) le", "Tél portable", "E-mail", "CP", "Commune", "ALD",
               "CMU-C / CSS", "Urgent", "Date de la demande", "Statut", "Structure",
               "Observations internes"]
    for col, text in enumerate(headers, start=1):
        ws.cell(row=3, column=col, value=text)
    rows: list[list[Any]] = [
        # 4: complete, Excel dates
        ["DURAND", "Marie", dt.datetime(1948, 3, 12), "06 12 34 56 78", None, 16000, "Angoulême",
         "X", None, None, dt.datetime(2023, 5, 2), "en attente", "DAC 16", "RAS"],
        # 5: date numbers, a phone and a postal code that lost their leading zero
        ["MARTIN", "Paul", 17604, 612345679, "paul.martin@exemple.fr", 1000, "Bourg-en-Bresse",
         "oui", "non", None, 45000, "En attente", "CH Angoulême", None],
        # 6-7: commune merged over two patients (G6:G7)
        ["PETIT", "Léa", "12.03.48", "0611223344", None, "16100", "Cognac", None, "x", "oui",
         "15/01/2024", "attribué Dr Moreau", "Pharmacie du Centre", None],
        ["ROBERT", "Jean", "1950-07-01", "0611223355", None, "16100", None, None, None, None,
         "2024-02-20", "a trouvé seul", "IDEL Martin", None],
        # 8: blank row
        [None] * 14,
        # 9: missing phone, commune and postal code: incomplete, not rejected
        ["LEROY", "Anne", "01/02/1960", None, None, None, None, None, None, None, "03/03/2024",
         None, None, None],
        # 10: no identity at all
        [None, None, None, "0699887766", None, "16000", "Angoulême", None, None, None,
         "03/03/2024", "en attente", None, None],
        # 11: the same patient as row 4, written another way
        ["Durand", "MARIE", "12/03/1948", None, "marie.durand@exemple.fr", None, None, None,
         None, None, "10/06/2024", "en attente", None, None],
        # 12-14: people who left
        ["BERNARD", "Luc", "05/05/1939", "0611000001", None, "16000", "Angoulême", "oui", None,
         None, "01/09/2023", "Décédé", None, None],
        ["THOMAS", "Eva", "05/05/1990", "0611000002", None, "16000", "Angoulême", None, None,
         None, "01/10/2023", "déménagé", None, None],
        ["MICHEL", "Guy", "05/05/1970", "0611000003", None, "16000", "Angoulême", None, None,
         None, "01/11/2023", "Injoignable", None, None],
        # 15: a status nobody can guess
        ["GARCIA", "Ana", "05/05/1985", "0611000004", None, "16000", "Angoulême", None, None,
         None, "01/12/2023", "voir Sophie", None, None],
        # 16: blank, 17: total
        [None] * 14,
        ["Total", None, None, None, None, None, None, "=COUNTIF(H4:H15,\"X\")", None, None, None,
         None, None, None],
    ]
    for r, values in enumerate(rows, start=4):
        for c, value in enumerate(values, start=1):
            ws.cell(row=r, column=c, value=value)
    ws.merge_cells("G6:G7")
    ws["K5"].number_format = "General"  # a date typed as a number

    left = wb.create_sheet("Sortis")
    for col, text in enumerate(["Nom", "Prénom", "DDN", "Téléphone", "Code postal", "Ville",
                                "Date d'inscription", "Date de sortie", "Médecin attribué"],
                               start=1):
        left.cell(row=1, column=col, value=text)
    left.append(["SIMON", "Claire", dt.datetime(1980, 4, 4), "0622000001", "16000", "Angoulême",
                 dt.datetime(2023, 1, 10), dt.datetime(2023, 4, 20), "Dr Lambert"])
    left.append(["LAURENT", "Yves", dt.datetime(1955, 4, 4), "0622000002", "16000", "Angoulême",
                 dt.datetime(2023, 2, 10), dt.datetime(2023, 3, 1), "Dr Lambert"])
    figures = wb.create_sheet("Chiffres")
    figures.append(["Mois", "Demandes"])
    figures.append(["janvier", 12])
    wb.save(path)
    return path


@pytest.fixture
def workbook(tmp_path: Path) -> Iterator[Path]:
    """The realistic workbook."""
    yield waitlist_xlsx(tmp_path / "liste-attente.xlsx")


def _count(bot: Bot, model: Any) -> int:
    with bot.app.db.sessions() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def _rows(report: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["sheet"], r["row"]): r for r in report["rows"]}


def test_dry_run_reports_row_by_row_and_writes_nothing(bot: Bot, workbook: Path) -> None:
    text = bot.cli("import", str(workbook), "--dry-run", *AT).stdout
    assert "essai à blanc" in text
    assert "Feuille « En attente » : en-tête ligne 3" in text
    assert "Feuille « Chiffres » : pas d'en-tête reconnu, ignorée." in text
    assert "Observations internes" in text  # a header it did not understand is named
    assert "ligne    10  rejetée" in text and "ni nom ni INS" in text
    assert "ligne    11  doublon" in text and "même patient que la ligne 4" in text
    assert "ligne    17  ignorée" in text and "ligne de total" in text
    assert "voir Sophie" in text and "--status" in text
    assert "DURAND" not in text and "0612345678" not in text  # rows are named by number only
    report = json.loads(bot.cli("import", str(workbook), "--dry-run", "--format", "json",
                                *AT).stdout)
    rows = _rows(report)
    assert rows[("En attente", 4)]["outcome"] == "incomplete"  # no consent column
    assert "Consentement" in rows[("En attente", 4)]["detail"]
    assert rows[("En attente", 9)]["outcome"] == "incomplete"
    assert "Téléphone" in rows[("En attente", 9)]["detail"]
    assert rows[("En attente", 10)]["outcome"] == "rejected"
    assert rows[("En attente", 15)]["outcome"] == "rejected"
    assert rows[("Sortis", 2)]["status"] == "resolved"
    assert report["counts"]["skipped"] == 3  # two blank rows and the total
    for model in (Entry, EntryEvent, ImportBatch, ImportRow, AuditRecord):
        assert _count(bot, model) == 0, model.__name__


def test_import_keeps_registration_dates_statuses_and_is_idempotent(bot: Bot,
                                                                     workbook: Path) -> None:
    run = bot.cli("import", str(workbook), "--assume-consent", *AT)
    assert "Import n°" in run.stdout and "Import" in run.stderr  # progress bar on stderr
    entries = {(e["nom"], e.get("prenom")): e for e in bot.export()}
    durand = entries[("DURAND", "Marie")]
    assert durand["status"] == "waiting"
    assert durand["received_at"] == paris_midnight(dt.date(2023, 5, 2)).isoformat()
    assert durand["date_naissance"] == "1948-03-12" and durand["ald"] is True
    assert durand["telephone"] == "+33612345678"
    assert durand["email"] == "marie.durand@exemple.fr"  # merged from row 11
    martin = entries[("MARTIN", "Paul")]
    assert martin["date_naissance"] == "1948-03-12"        # Excel date number 17604
    assert martin["received_at"] == paris_midnight(dt.date(2023, 3, 15)).isoformat()  # 45000
    assert martin["code_postal"] == "01000" and martin["telephone"] == "+33612345679"
    assert martin["css"] is False and martin["referent_structure"] == "CH Angoulême"
    petit, robert = entries[("PETIT", "Léa")], entries[("ROBERT", "Jean")]
    assert petit["status"] == "resolved" and petit["urgent"] is True and petit["css"] is True
    assert petit["resolution"].startswith("devenu médecin traitant")
    assert robert["commune"] == "Cognac"                   # merged cell filled down
    assert robert["resolution"].startswith("a trouvé un médecin seul")
    assert "resolved_at" not in robert                     # exit date unknown
    leroy = entries[("LEROY", "Anne")]
    assert leroy["status"] == "incomplete" and {"telephone", "code_postal"} <= set(leroy["problems"])
    closed = {k[0]: v["closed_reason"] for k, v in entries.items() if v["status"] == "closed"}
    assert closed == {"BERNARD": "deceased", "THOMAS": "moved_away", "MICHEL": "unreachable"}
    simon = entries[("SIMON", "Claire")]
    assert simon["status"] == "resolved"
    assert simon["resolved_at"] == paris_midnight(dt.date(2023, 4, 20)).isoformat()
    assert ("GARCIA", "Ana") not in entries and len(entries) == 10

    with bot.app.db.sessions() as s:
        batch = s.scalars(select(ImportBatch)).one()
        assert batch.counts["created"] + batch.counts["incomplete"] == 10
        assert batch.finished_at is not None and batch.file_name == workbook.name
        actions = [a.action for a in s.scalars(select(AuditRecord))]
        assert actions.count("import.run") == 1 and actions.count("entry.create") == 10
        assert actions.count("entry.status") == 7  # the patients who had already left
        assert audit.verify_chain(s) == []  # chunks written at once keep the hash chain whole
        kinds = [e.kind for e in s.scalars(select(EntryEvent))]
        assert kinds.count("imported") == 10 and kinds.count("merged") == 1

    again = json.loads(bot.cli("import", str(workbook), "--assume-consent", "--format", "json",
                               *AT).stdout)
    assert again["counts"]["created"] == again["counts"]["incomplete"] == 0
    assert again["counts"]["already"] == 11  # 10 entries + the merged duplicate
    assert len(bot.export()) == 10 and _count(bot, ImportBatch) == 2


def test_fifo_rank_follows_the_original_registration_dates(bot: Bot, workbook: Path) -> None:
    bot.cli("import", str(workbook), "--assume-consent", *AT)
    waiting = json.loads(bot.cli("entries", "export", "--format", "json", "--status",
                                 "waiting").stdout)
    names = [e["nom"] for e in waiting]
    assert names == ["MARTIN", "DURAND"]  # 15/03/2023 before 02/05/2023, whatever the row order


def test_patient_already_registered_by_mail_keeps_the_older_rank(bot: Bot, workbook: Path) -> None:
    bot.drop_example("01-dac-text-form.eml")
    bot.run_once()
    before = bot.export()
    assert [e["nom"] for e in before] == ["DURAND"]
    report = json.loads(bot.cli("import", str(workbook), "--format", "json", *AT).stdout)
    rows = _rows(report)
    assert rows[("En attente", 4)]["outcome"] == "duplicate"
    assert rows[("En attente", 4)]["ref"] == before[0]["ref"]
    after = {e["ref"]: e for e in bot.export()}[before[0]["ref"]]
    assert after["received_at"] == paris_midnight(dt.date(2023, 5, 2)).isoformat()
    with bot.app.db.sessions() as s:
        assert "rank" in [e.kind for e in s.scalars(select(EntryEvent))]


def test_sheet_choice_column_and_status_overrides(bot: Bot, workbook: Path) -> None:
    only = json.loads(bot.cli("import", str(workbook), "--dry-run", "--sheet", "Sortis",
                              "--format", "json", *AT).stdout)
    assert {r["sheet"] for r in only["rows"]} == {"Sortis"}
    missing = bot.cli("import", str(workbook), "--sheet", "Feuil9", check=False)
    assert missing.returncode == 2 and "Feuil9" in missing.stderr and "Sortis" in missing.stderr
    told = json.loads(bot.cli("import", str(workbook), "--dry-run", "--format", "json",
                              "--status", "voir Sophie=closed:retrait",
                              "--map", "Observations internes=ignorer", *AT).stdout)
    assert _rows(told)[("En attente", 15)]["status"] == "closed"
    assert "Observations internes" not in json.dumps(told["sheets"])
    bad = bot.cli("import", str(workbook), "--map", "Zone=planète", check=False)
    assert bad.returncode == 2 and "planète" in bad.stderr
    assert bot.cli("import", str(workbook.with_suffix(".ods")), check=False).returncode == 2


@pytest.mark.parametrize(("encoding", "delimiter"), [("cp1252", ";"), ("utf-8-sig", ","),
                                                     ("utf-8", "\t")])
def test_csv_delimiter_and_encoding_are_sniffed(bot: Bot, tmp_path: Path, encoding: str,
                                                delimiter: str) -> None:
    lines = [["Nom", "Prénom", "Date de naissance", "Téléphone", "Code postal", "Commune",
              "Date d'inscription", "Statut", "Accord du patient"],
             ["LEFÈVRE", "Zoé", "02/01/1990", "06 11 22 33 44", "16000", "Angoulême",
              "05/03/2024", "en attente", "oui"],
             ["", "", "", "", "", "", "", "", ""],
             ["NOËL", "Hélène", "1975-12-24", "0611223345", "16100", "Châteaubernard",
              "06/03/2024", "attribué", "oui"]]
    path = tmp_path / "liste.csv"
    path.write_bytes("\r\n".join(delimiter.join(row) for row in lines).encode(encoding) + b"\r\n")
    report = json.loads(bot.cli("import", str(path), "--format", "json", *AT).stdout)
    assert report["counts"]["created"] == 2 and report["counts"]["skipped"] == 1
    entries = {e["nom"]: e for e in bot.export()}
    assert entries["LEFÈVRE"]["prenom"] == "Zoé" and entries["LEFÈVRE"]["status"] == "waiting"
    assert entries["NOËL"]["commune"] == "Châteaubernard"
    assert entries["NOËL"]["status"] == "resolved"


def test_an_interrupted_import_resumes_without_doubles(tmp_path: Path,
                                                      database_section: dict[str, str]) -> None:
    bot = Bot.create(tmp_path, database_section,
                     extra={"coordination": {"import_batch_rows": 3}})
    try:
        workbook = waitlist_xlsx(tmp_path / "liste.xlsx")
        # A trial in batches of three, each rolled back, still sees the patient of row 4 in row 11.
        trial = json.loads(bot.cli("import", str(workbook), "--dry-run", "--format", "json",
                                   *AT).stdout)
        assert _rows(trial)[("En attente", 11)]["detail"] == "même patient que la ligne 4"
        assert trial["counts"]["created"] + trial["counts"]["incomplete"] == 10
        assert bot.export() == []
        crashed = bot.cli("import", str(workbook), "--assume-consent", *AT, check=False,
                          env={"MAILBOT_CRASH_AT": "import_after_batch"})
        assert crashed.returncode == 137
        first = len(bot.export())
        assert 0 < first < 10
        bot.cli("import", str(workbook), "--assume-consent", *AT)
        assert len(bot.export()) == 10
        with bot.app.db.sessions() as s:
            rows = s.execute(select(ImportRow.sheet, ImportRow.row_number)).all()
        assert len(rows) == len(set(rows)) == 11
    finally:
        bot.close()


def test_the_same_row_twice_in_the_file_is_one_patient(bot: Bot, tmp_path: Path) -> None:
    path = tmp_path / "sortis.csv"
    row = "BERNARD;Luc;05/05/1939;0611000001;16000;Angoulême;01/09/2023;décédé"
    path.write_text("Nom;Prénom;DDN;Tél;CP;Ville;Date d'inscription;Statut\n"
                    f"{row}\n{row}\n", encoding="utf-8")
    report = json.loads(bot.cli("import", str(path), "--format", "json", *AT).stdout)
    rows = _rows(report)
    assert rows[("sortis", 2)]["outcome"] == "created"
    assert rows[("sortis", 3)]["outcome"] == "duplicate"
    assert rows[("sortis", 3)]["detail"] == "même patient que la ligne 2"
    assert [e["closed_reason"] for e in bot.export()] == ["deceased"]
