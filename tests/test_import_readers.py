"""Reading spreadsheets as people keep them: encodings, delimiters, headers, cells, statuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from mailbot.errors import UsageError
from mailbot.importer.columns import GP, RECEIVED, STATUS, find_header, parse_overrides
from mailbot.importer.rows import RowContext, cell_text, excel_date, read_row
from mailbot.importer.sheets import decode, read_csv, read_sheets, read_xlsx, sniff_delimiter
from mailbot.importer.statuses import read_status
from parsers.referral.labels import NOM_PRENOM
from store.models import EntryStatus

CTX = RowContext(today=dt.date(2025, 6, 30), tz=ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_decode_finds_the_encoding(encoding: str) -> None:
    text = "Nom;Prénom;Commune\nLEFÈVRE;Zoé;Châteaubernard\n"
    decoded, found = decode(text.encode(encoding))
    assert decoded.lstrip("\ufeff") == text
    assert found == encoding or (encoding == "utf-16" and found == "utf-16")


@pytest.mark.parametrize(("text", "delimiter"), [
    ("Nom;Prénom;Poids\nDURAND;Marie;62,5\nMARTIN;Paul;80,1\n", ";"),
    ("Nom,Prénom,Ville\nDURAND,Marie,\"Angoulême, centre\"\n", ","),
    ("Nom\tPrénom\tVille\nDURAND\tMarie\tCognac\n", "\t"),
    ("Nom|Prénom|Ville\nDURAND|Marie|Cognac\n", "|"),
])
def test_sniff_delimiter(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


def test_csv_sheet_keeps_accents_and_blank_cells(tmp_path: Path) -> None:
    path = tmp_path / "liste.csv"
    path.write_bytes("Nom;Prénom;Commune\r\nNOËL;Hélène;\r\n".encode("cp1252"))
    sheet = read_csv(path)
    assert sheet.rows == [["Nom", "Prénom", "Commune"], ["NOËL", "Hélène", None]]
    assert sheet.from_csv


def test_header_below_a_title_and_group_titles(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"] = "Liste d'attente"
    ws.merge_cells("A1:F1")
    ws["A2"], ws["D2"] = "Patient", "Référent"
    ws.merge_cells("A2:C2")
    ws.merge_cells("D2:E2")
    for col, text in enumerate(["Nom Prénom", "DDN", "Portable", "Nom", "Tél", "Zone"], start=1):
        ws.cell(row=3, column=col, value=text)
    ws.append(["DURAND Marie", "12/03/1948", "0612345678", "Dr Moreau", "0545000000", "Nord"])
    path = tmp_path / "l.xlsx"
    wb.save(path)
    sheet = read_xlsx(path)[0]
    assert sheet.rows[1][:5] == ["Patient", "Patient", "Patient", "Référent", "Référent"]
    header = find_header(sheet.rows, {})
    assert header is not None and header.row == 3
    assert header.keys == {0: NOM_PRENOM, 1: "date_naissance", 2: "telephone",
                           3: "referent_nom", 4: "referent_telephone"}
    assert header.unknown == ["Zone"]
    mapped = find_header(sheet.rows, parse_overrides(["zone = commune"]))
    assert mapped is not None and mapped.keys[5] == "commune"
    plan = read_row("Feuil1", 4, sheet.rows[3], mapped, CTX)
    assert plan.fields["nom"] == "DURAND" and plan.fields["prenom"] == "Marie"
    assert plan.fields["referent_telephone"] == "+33545000000"
    assert plan.fields["commune"] == "Nord"


def test_no_header_means_no_rows() -> None:
    assert find_header([["Mois", "Demandes"], ["janvier", 12]], {}) is None
    assert find_header([["Nom", "Prénom"], ["A", "B"]], {}) is not None


def test_waitlist_columns_are_recognised() -> None:
    header = find_header([["Nom", "Prénom", "Date de la demande", "État", "Médecin attribué"]], {})
    assert header is not None
    assert list(header.keys.values()) == ["nom", "prenom", RECEIVED, STATUS, GP]


def test_cells_undo_what_spreadsheets_do() -> None:
    assert cell_text("code_postal", 1000, CTX) == "01000"
    assert cell_text("code_postal", 16000.0, CTX) == "16000"
    assert cell_text("telephone", 612345678, CTX) == "0612345678"
    assert cell_text("date_naissance", 17604, CTX) == "12/03/1948"
    assert cell_text("ald", True, CTX) == "oui"
    assert cell_text("nom", "  DURAND ", CTX) == "DURAND"
    assert excel_date(45292) == dt.datetime(2024, 1, 1)
    assert excel_date(0, epoch_1904=True) is None and excel_date(1, epoch_1904=True) == dt.datetime(1904, 1, 2)


@pytest.mark.parametrize(("text", "status", "reason"), [
    ("en attente", EntryStatus.WAITING, None), ("À attribuer", EntryStatus.WAITING, None),
    ("Proposé au Dr X", EntryStatus.WAITING, None), ("incomplet", EntryStatus.INCOMPLETE, None),
    ("Attribué Dr Moreau", EntryStatus.RESOLVED, "devenu médecin traitant (import)"),
    ("MT trouvé", EntryStatus.RESOLVED, "devenu médecin traitant (import)"),
    ("a trouvé seul", EntryStatus.RESOLVED, "a trouvé un médecin seul (import)"),
    ("Décédée", EntryStatus.CLOSED, "deceased"), ("déménagé", EntryStatus.CLOSED, "moved_away"),
    ("Injoignable", EntryStatus.CLOSED, "unreachable"), ("doublon", EntryStatus.CLOSED, "duplicate"),
    ("ne souhaite plus", EntryStatus.CLOSED, "withdrawn"),
])
def test_statuses_as_people_write_them(text: str, status: EntryStatus, reason: str | None) -> None:
    found = read_status(text)
    assert found is not None and found.status is status and found.reason == reason


def test_unknown_status_and_bad_options() -> None:
    assert read_status("voir Sophie") is None and read_status("") is None
    with pytest.raises(UsageError):
        parse_overrides(["sans signe égal"])
    with pytest.raises(UsageError):
        parse_overrides(["Zone=planète"])
    assert parse_overrides(["Patient=nom_prenom"]) == {"patient": NOM_PRENOM}


def test_unsupported_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "liste.ods"
    path.write_bytes(b"PK")
    with pytest.raises(UsageError, match="xlsx"):
        read_sheets(path)
    broken = tmp_path / "liste.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(UsageError, match="illisible"):
        read_sheets(broken)


def test_a_damaged_workbook_is_a_usage_error_not_a_crash(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "liste.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Nom", "Prénom"])
    ws.append(["MARTIN", "Paul"])
    book.save(path)
    assert read_xlsx(path)[0].rows == [["Nom", "Prénom"], ["MARTIN", "Paul"]]
    damaged = tmp_path / "abime.xlsx"  # a shared string that does not exist: neither reader copes
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<c r="A2" t="inlineStr"><is><t>MARTIN</t></is></c>',
                                    b'<c r="A2" t="s"><v>99</v></c>')
                assert b'<v>99</v>' in data
            target.writestr(item, data)
    with pytest.raises(UsageError, match="illisible"):
        read_sheets(damaged)
