"""The attachment readers on real files: CSV/XLSX batches, PDF forms (two producers), XDM."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from parsers.referral.attached import FoundBatch, FoundForm, FoundProblem, read_attachments
from parsers.referral.batch import Batch, read_batch
from parsers.referral.pdf_blank import blank_form
from parsers.referral.pdf_form import PdfProblem, read_pdf_form
from parsers.referral.sheet_bytes import MAX_ROWS, SheetProblem
from parsers.referral.types import CANONICAL_KEYS, ReferralForm
from parsers.referral.xdm import XdmIdentity, XdmProblem, identity_fields, ins_matches, read_xdm
from tests.attachments_support import (
    FILLED,
    HEADER,
    ROWS,
    bomb_zip,
    cda,
    csv_bytes,
    pypdf_form,
    reportlab_filled,
    text_only_pdf,
    with_macros,
    xdm_zip,
    xlsx_bytes,
)

TODAY = dt.date(2026, 12, 3)


def _batch(data: bytes, *, xlsx: bool = False) -> Batch:
    batch = read_batch(data, xlsx=xlsx, name="patients", today=TODAY)
    assert isinstance(batch, Batch), batch
    return batch


# ---------------------------------------------------------------- batches

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_csv_each_encoding_and_separator_gives_each_row(encoding: str, sep: str) -> None:
    rows = [[cell.replace(",", " ") for cell in row] for row in ROWS]
    batch = _batch(csv_bytes(rows, sep=sep, encoding=encoding))
    assert [r.number for r in batch.rows] == [2, 3, 4, 5]
    first, second, third, fourth = batch.rows
    assert first.form is not None and first.form.complete
    assert first.form.fields["nom"] == "DURAND" and first.form.fields["commune"] == "Angoulême"
    assert second.form is not None and [p.key for p in second.form.problems] == ["date_naissance"]
    assert third.form is None and "ni nom ni INS" in third.rejected
    assert fourth.form is not None and fourth.form.fields["prenom"] == "Hélène"


def test_formula_looking_text_cells_are_stored_as_written() -> None:
    rows = [["DUPONT", "Jean", "01/01/1950", "+33 6 12 34 56 78", "16000", "Angoulême", "oui",
             text] for text in ("=1+1", "+ suivi", "-urgent", "@dr")]
    for data, xlsx in ((csv_bytes(rows), False), (xlsx_bytes(rows), True)):
        motifs = [r.form.fields["motif"] for r in _batch(data, xlsx=xlsx).rows if r.form]
        assert motifs == ["=1+1", "+ suivi", "-urgent", "@dr"]


def test_header_mapping_is_the_one_of_mailbot_import() -> None:
    import mailbot.importer.columns as importer
    import parsers.referral.columns as shared

    assert importer.find_header is shared.find_header and importer.column_key is shared.column_key
    header = ["Nom Prénom", "DDN", "Tél portable", "CP Ville", "Accord patient", "Statut"]
    data = csv_bytes([["DURAND Marie", "12/03/1948", "0612345678", "16000 Angoulême", "oui",
                       "en attente"]], header=header)
    [row] = _batch(data).rows
    assert row.form is not None and row.form.complete, row.form
    assert row.form.fields["prenom"] == "Marie" and row.form.fields["code_postal"] == "16000"


def test_xlsx_rows_dates_and_numbers_as_typed() -> None:
    rows = [["DURAND", "Marie", dt.datetime(1948, 3, 12), 612345678, 1000, "Bourg", True, ""]]
    [row] = _batch(xlsx_bytes(rows), xlsx=True).rows
    assert row.form is not None
    assert row.form.fields["date_naissance"] == dt.date(1948, 3, 12)
    assert row.form.fields["telephone"] == "+33612345678"
    assert row.form.fields["code_postal"] == "01000" and row.form.fields["consentement"] is True


def test_formulas_are_never_run_computed_values_are_read_and_others_reported() -> None:
    rows = [["DURAND", "Marie", "12/03/1948", "0612345678", "16000", "Angoulême", "oui", ""],
            ["MARTIN", "Luc", "02/05/1950", "0545123456", "16000", "Angoulême", "oui", ""]]
    data = xlsx_bytes(rows, formulas={"F3": '=CONCATENATE("Ang","oulême")'})
    batch = _batch(data, xlsx=True)
    assert batch.notes and "formules" in batch.notes[0]
    first, second = batch.rows
    assert first.form is not None and first.form.complete
    assert second.form is not None and [p.key for p in second.form.problems] == ["commune"]
    assert "formule" in second.form.problems[0].message


@pytest.mark.parametrize(("data", "xlsx", "code"), [
    (with_macros(xlsx_bytes(ROWS)), True, "macros"),
    (xlsx_bytes([], header=[]), True, "empty"),
    (b"", False, "empty"),
    (csv_bytes([], header=["Colonne A", "Colonne B"]), False, "no_header"),
    (csv_bytes([]), False, "empty"),
    (b"PK\x03\x04 not really a zip", True, "corrupt"),
    (csv_bytes([ROWS[0]] * (MAX_ROWS + 5)), False, "too_many_rows"),
])
def test_bad_sheets_are_problems_with_a_french_reason(data: bytes, xlsx: bool, code: str) -> None:
    problem = read_batch(data, xlsx=xlsx, today=TODAY)
    assert isinstance(problem, SheetProblem) and problem.code == code
    assert problem.message and problem.message[0].islower()


def test_five_thousand_rows_are_all_read() -> None:
    rows = [[f"NOM{n}", "Jean", "01/01/1950", "0612345678", "16000", "Angoulême", "oui", ""]
            for n in range(5000)]
    batch = _batch(xlsx_bytes(rows), xlsx=True)
    assert len(batch.rows) == 5000 and all(r.form and r.form.complete for r in batch.rows)


# ---------------------------------------------------------------- PDF

def test_blank_form_has_every_canonical_key_as_a_field_and_the_cpts_name() -> None:
    from pypdf import PdfReader

    data = blank_form("CPTS du Grand Angoulême")
    reader = PdfReader(io.BytesIO(data))
    fields = reader.get_fields() or {}
    assert set(fields) == set(CANONICAL_KEYS)
    assert fields["ald"].get("/FT") == "/Btn" and fields["nom"].get("/FT") == "/Tx"
    assert "CPTS du Grand Angoulême" in reader.pages[0].extract_text()
    assert "Date de naissance" in reader.pages[0].extract_text()
    assert isinstance(read_pdf_form(data, today=TODAY), PdfProblem)  # blank: nothing filled


def test_reportlab_form_filled_reads_back() -> None:
    form = read_pdf_form(reportlab_filled(FILLED, {"ald": True, "consentement": True,
                                                   "css": False}), today=TODAY)
    assert isinstance(form, ReferralForm) and form.complete, form
    assert form.fields["ald"] is True and form.fields["css"] is False
    assert form.fields["date_naissance"] == dt.date(1948, 3, 12)


@pytest.mark.parametrize("state", ["/Oui", "/On", "/1", "/Choix1"])
def test_pypdf_form_checkbox_export_values_other_than_yes(state: str) -> None:
    form = read_pdf_form(pypdf_form(FILLED, {"consentement": state, "urgent": state,
                                             "ame": "/Off"}), today=TODAY)
    assert isinstance(form, ReferralForm) and form.complete, form
    assert form.fields["urgent"] is True and form.fields["ame"] is False


@pytest.mark.parametrize("acroform", [True, False])
def test_copies_with_only_appearance_streams_are_read(acroform: bool) -> None:
    data = pypdf_form(FILLED, {"consentement": "/Oui"}, with_values=False, acroform=acroform)
    form = read_pdf_form(data, today=TODAY)
    assert isinstance(form, ReferralForm) and form.complete, form
    assert form.fields["nom"] == "DURAND" and form.fields["commune"] == "Angoulême"


def test_field_names_that_are_labels_are_read_as_labels() -> None:
    data = pypdf_form({"Nom du patient": "DURAND", "Prénom": "Marie", "Né(e) le": "12/03/1948"},
                      {})
    form = read_pdf_form(data, today=TODAY)
    assert isinstance(form, ReferralForm)
    assert form.fields["nom"] == "DURAND" and form.fields["date_naissance"] == dt.date(1948, 3, 12)
    assert "consentement" in form.problem_keys


def test_pdf_without_fields_is_never_guessed() -> None:
    problem = read_pdf_form(text_only_pdf(), today=TODAY)
    assert isinstance(problem, PdfProblem) and problem.code == "no_fields"


def test_password_protected_pdf_and_damaged_pdf() -> None:
    locked = read_pdf_form(pypdf_form(FILLED, {}, password="secret"), today=TODAY)
    assert isinstance(locked, PdfProblem) and locked.code == "encrypted"
    broken = read_pdf_form(b"%PDF-1.7\n1 0 obj << /Type /Catalog", today=TODAY)
    assert isinstance(broken, PdfProblem) and broken.code in ("corrupt", "no_fields")


# ---------------------------------------------------------------- XDM

def _identity(data: bytes) -> XdmIdentity:
    found = read_xdm(data)
    assert isinstance(found, XdmIdentity), found
    return found


@pytest.mark.parametrize("root", ["1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.10",
                                  "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.11"])
def test_xdm_identity_from_record_target(root: str) -> None:
    identity = _identity(xdm_zip(cda(root=root)))
    assert identity.ins == "248031601512383" and identity.ins_kind
    fields, problems = identity_fields(identity, today=TODAY)
    assert problems == ()
    assert fields["nom"] == "DURAND" and fields["nom_usage"] == "MARTIN"
    assert fields["prenom"] == "Marie" and fields["sexe"] == "F"
    assert fields["date_naissance"] == dt.date(1948, 3, 12) and fields["ins"] == "248031601512383"
    assert fields["adresse"] == "12 rue des Lilas" and fields["code_postal"] == "16000"
    assert fields["telephone"] == "+33612345678" and fields["email"] == "marie.durand@exemple.fr"


def test_x_mss_ins_header_is_checked() -> None:
    identity = _identity(xdm_zip())
    assert ins_matches(identity, "248031601512383")
    assert ins_matches(identity, "")
    assert not ins_matches(identity, "1 85 12 75 115 042 17")


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(("data", "code"), [
    (b"PK\x03\x04garbage", "corrupt"),
    (xdm_zip()[:200], "corrupt"),
    (bomb_zip(), "bomb"),
    (xdm_zip(extra={"../../etc/cron.d/x": b"x"}), "path"),
    (xdm_zip(extra={"/abs/evil.xml": b"x"}), "path"),
    (_zip({"doc.xml": cda()}), "no_metadata"),
    (xdm_zip(b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;'>]>"
             b"<ClinicalDocument xmlns='urn:hl7-org:v3'>&b;</ClinicalDocument>"), "no_cda"),
    (xdm_zip(b"<ClinicalDocument xmlns='urn:hl7-org:v3'><title>x</title></ClinicalDocument>"),
     "no_patient"),
])
def test_hostile_and_broken_archives(data: bytes, code: str) -> None:
    problem = read_xdm(data)
    assert isinstance(problem, XdmProblem) and problem.code == code, problem


# ---------------------------------------------------------------- a mail's attachments

def test_read_attachments_sorts_each_file_and_leaves_images_out() -> None:
    from email import message_from_bytes

    from tests.attachments_support import mail_with

    raw = mail_with("a@b.fr", "Bonjour", [
        ("logo.png", "image/png", b"\x89PNG\r\n"),
        ("patients.csv", "text/csv", csv_bytes(ROWS)),
        ("fiche.pdf", "application/pdf", reportlab_filled(FILLED, {"consentement": True})),
        ("classeur.xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12", b"PK"),
        ("IHE_XDM.ZIP", "application/zip", xdm_zip())], message_id="x@y")
    found = read_attachments(message_from_bytes(raw), today=TODAY)
    assert [type(f) for f in found] == [FoundBatch, FoundForm, FoundProblem, FoundForm]
    assert isinstance(found[2], FoundProblem) and found[2].code == "macros"
    assert isinstance(found[3], FoundForm) and found[3].identity_only
    assert len(HEADER) == 8
