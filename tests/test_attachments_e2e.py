"""Referrals sent as attachments, end to end through the Maildir inbox (both backends):
right entries, one threaded acknowledgement, the raw mail kept, bad files answered."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select

from store.models import Entry, EntryEvent, InboundMessage
from tests.attachments_support import (
    FILLED,
    ROWS,
    cda,
    csv_bytes,
    forwarded,
    mail_with,
    pypdf_form,
    reportlab_filled,
    text_only_pdf,
    with_macros,
    xdm_zip,
    xlsx_bytes,
)
from tests.helpers import Bot, body_of
from tests.test_intake_e2e import COMPLETE, DAC, mail

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _one_ack(bot: Bot, message_id: str) -> tuple[EmailMessage, str]:
    [ack] = bot.sent()
    assert ack["To"] == DAC and ack["In-Reply-To"] == f"<{message_id}>"
    return ack, body_of(ack)


def _raw_kept(bot: Bot, message_id: str) -> InboundMessage:
    with bot.app.db.sessions() as session:
        row = session.scalars(select(InboundMessage)
                              .where(InboundMessage.message_id == message_id)).one()
        assert row.raw and message_id.encode() in row.raw
        session.expunge(row)
        return row


def test_batch_rows_each_become_an_entry_and_one_ack_lists_them(bot: Bot) -> None:
    bot.drop(mail_with(DAC, "Bonjour, voici trois patients.", [
        ("patients.xlsx", XLSX, xlsx_bytes(ROWS))], message_id="lot-1@dac16.mssante.fr"))
    assert bot.run_once().states == {"processed": 1}
    rows = {r["nom"]: r for r in bot.export()}
    assert set(rows) == {"DURAND", "MARTIN", "LEFÈVRE"}
    assert rows["DURAND"]["status"] == "waiting"
    assert rows["MARTIN"]["status"] == "incomplete" and rows["MARTIN"]["problems"] == ["date_naissance"]
    assert rows["LEFÈVRE"]["motif"] == '=HYPERLINK("http://x")'  # stored as text
    ack, body = _one_ack(bot, "lot-1@dac16.mssante.fr")
    assert "3 patients" not in ack["Subject"] and "4 patients" in ack["Subject"]
    assert f"ligne 2 (D. M.) : inscrit(e), référence {rows['DURAND']['ref']}" in body
    assert f"ligne 3 (M. L.) : fiche incomplète, référence {rows['MARTIN']['ref']}" in body
    assert "ligne 4 : non enregistrée : ni nom ni INS" in body
    assert "DURAND" not in body and "Marie" not in body  # initials only
    assert _raw_kept(bot, "lot-1@dac16.mssante.fr").state == "processed"


def test_batch_twice_merges_and_double_rows_are_set_aside(bot: Bot) -> None:
    data = csv_bytes([ROWS[0], ROWS[0]], encoding="cp1252")
    bot.drop(mail_with(DAC, "", [("liste.csv", "text/csv", data)], message_id="lot-2@x"))
    bot.drop(mail_with(DAC, "", [("liste.csv", "text/csv", data)], message_id="lot-3@x"))
    bot.run_once()
    [row] = bot.export()
    assert row["commune"] == "Angoulême"
    first, second = (body_of(m) for m in bot.sent())
    assert "même patient que ligne 2" in first
    assert f"déjà inscrit(e) : informations ajoutées au dossier, référence {row['ref']}" in second


def _letters(number: int) -> str:
    """A distinct name of letters only (identity keys ignore digits)."""
    return "".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ"[number // 26 ** k % 26] for k in range(3))


def test_five_thousand_rows_answer_summarises(bot: Bot) -> None:
    rows = [[_letters(n), "Jean", "01/01/1950", "0612345678", "16000", "Angoulême", "oui", ""]
            for n in range(5000)] + [["SANSDATE", "Paul", "", "0612345678", "16000",
                                      "Angoulême", "oui", ""]]
    bot.drop(mail_with(DAC, "", [("gros.csv", "text/csv", csv_bytes(rows))], message_id="big@x"))
    assert bot.run_once().states == {"processed": 1}
    with bot.app.db.sessions() as session:
        assert len(session.scalars(select(Entry.id)).all()) == 5001
    _ack, body = _one_ack(bot, "big@x")
    assert "ligne 5002 (S. P.) : fiche incomplète" in body
    assert "et 5000 autres patients inscrits sans problème" in body
    assert "5000 inscrit(s), 1 fiche(s) incomplète(s)" in body
    assert len(body) < 5000


def test_pdf_form_attached_with_body_form_attachment_wins_conflicts_listed(bot: Bot) -> None:
    body = COMPLETE.replace("MARTIN", "DURAND").replace("Lucien", "Marie")
    pdf = reportlab_filled(FILLED, {"consentement": True, "ald": True})
    bot.drop(mail_with(DAC, body, [("fiche.pdf", "application/pdf", pdf)], message_id="pdf-1@x"))
    assert bot.run_once().states == {"processed": 1}
    [row] = bot.export()
    assert row["status"] == "waiting" and row["ald"] is True
    assert row["date_naissance"] == "1948-03-12"  # the PDF's, not the body's 02/05/1950
    _ack, text = _one_ack(bot, "pdf-1@x")
    assert "Date de naissance : « 12/03/1948 » (le message indiquait « 02/05/1950 »)" in text
    with bot.app.db.sessions() as session:
        events = session.scalars(select(EntryEvent).where(EntryEvent.kind == "conflicts")).all()
        assert [c["key"] for c in events[0].detail["conflicts"]] == [
            "date_naissance", "telephone"]


def test_pypdf_form_with_odd_export_values(bot: Bot) -> None:
    pdf = pypdf_form(FILLED, {"consentement": "/Oui", "urgent": "/On"}, with_values=False)
    bot.drop(mail_with(DAC, "Bonjour", [("f.pdf", "application/pdf", pdf)], message_id="p2@x"))
    bot.run_once()
    [row] = bot.export()
    assert row["status"] == "waiting" and row["urgent"] is True and row["consentement"] is True


def test_xdm_identity_with_body_fields_or_incomplete(bot: Bot) -> None:
    bot.drop(mail_with(DAC, "Motif : médecin parti\nConsentement : oui\n",
                       [("IHE_XDM.ZIP", "application/zip", xdm_zip())], message_id="xdm-1@x",
                       headers={"X-MSS-INS": "248031601512383"}))
    bot.drop(mail_with(DAC, "Ci-joint le dossier.",
                       [("IHE_XDM.ZIP", "application/zip",
                         xdm_zip(cda(ins="185127511504263", family="PETIT", given="Jean",
                                     birth="19851201", sex="M")))], message_id="xdm-2@x"))
    assert bot.run_once().states == {"processed": 2}
    rows = {r["nom"]: r for r in bot.export()}
    assert rows["DURAND"]["status"] == "waiting" and rows["DURAND"]["ins"] == "248031601512383"
    assert rows["DURAND"]["motif"] == "médecin parti" and rows["DURAND"]["sexe"] == "F"
    assert rows["PETIT"]["status"] == "incomplete" and rows["PETIT"]["problems"] == ["consentement"]
    assert "consentement" in body_of(bot.sent()[1]).lower()


def test_xdm_ins_header_mismatch_is_answered_and_escalated(bot: Bot) -> None:
    bot.drop(mail_with(DAC, "", [("IHE_XDM.ZIP", "application/zip", xdm_zip())],
                       message_id="xdm-3@x", headers={"X-MSS-INS": "185127511504263"}))
    assert bot.run_once().states == {"escalated": 1}
    assert bot.export() == []
    _ack, body = _one_ack(bot, "xdm-3@x")
    assert "X-MSS-INS" in body


def test_bad_attachments_each_get_a_clear_answer_and_nothing_is_lost(bot: Bot) -> None:
    cases = {
        "locked@x": ("f.pdf", "application/pdf", pypdf_form(FILLED, {}, password="s3cret"),
                     "mot de passe"),
        "zip@x": ("IHE_XDM.ZIP", "application/zip", b"PK\x03\x04broken", "endommagée"),
        "macro@x": ("l.xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12",
                    with_macros(xlsx_bytes(ROWS)), "macros"),
        "empty@x": ("vide.xlsx", XLSX, xlsx_bytes([], header=[]), "vide"),
        "flat@x": ("scan.pdf", "application/pdf", text_only_pdf(), "champs de formulaire"),
        "xls@x": ("liste.xls", "application/vnd.ms-excel", b"\xd0\xcf\x11\xe0", ".xlsx ou .csv"),
        "formula@x": ("calc.xlsx", XLSX, xlsx_bytes([], header=["=A2", "=B2"]), "en-tête"),
    }
    for message_id, (name, ctype, data, _) in cases.items():
        bot.drop(mail_with(DAC, "Bonjour, ci-joint.", [(name, ctype, data)],
                           message_id=message_id))
    assert bot.run_once().states == {"escalated": len(cases)}
    assert bot.export() == []
    answers = {m["In-Reply-To"].strip("<>"): body_of(m) for m in bot.sent()}
    for message_id, (name, _ctype, _data, said) in cases.items():
        assert f"« {name} »" in answers[message_id] and said in answers[message_id]
        assert _raw_kept(bot, message_id).state == "escalated"


def test_letter_attached_to_a_body_form_does_not_stop_it(bot: Bot) -> None:
    bot.drop(mail_with(DAC, COMPLETE, [("courrier.pdf", "application/pdf", text_only_pdf())],
                       message_id="lettre@x"))
    assert bot.run_once().states == {"processed": 1}
    [row] = bot.export()
    assert row["nom"] == "MARTIN" and row["status"] == "waiting"


def test_form_forwarded_as_attached_message_is_read(bot: Bot) -> None:
    inner = mail("secretariat@ehpad.fr", COMPLETE, message_id="inner@ehpad.fr")
    bot.drop(forwarded(DAC, inner, message_id="fwd@x"))
    assert bot.run_once().states == {"processed": 1}
    [row] = bot.export()
    assert row["nom"] == "MARTIN" and row["status"] == "waiting"
    ack, _ = _one_ack(bot, "fwd@x")
    assert row["ref"] in ack["Subject"]


def test_mailbot_form_pdf_writes_the_blank_that_comes_back_filled(bot: Bot) -> None:
    import io

    from pypdf import PdfReader, PdfWriter

    out = bot.root / "fiche.pdf"
    said = bot.cli("form", "pdf", "-o", str(out)).stdout
    assert "Fiche de saisine PDF écrite" in said
    reader = PdfReader(out)
    assert bot.app.config.identity.name in reader.pages[0].extract_text()
    writer = PdfWriter()
    writer.append(reader)
    writer.update_page_form_field_values(writer.pages[0], {**FILLED, "consentement": "/Yes"},
                                         auto_regenerate=False)
    filled = io.BytesIO()
    writer.write(filled)
    bot.drop(mail_with(DAC, "", [("fiche.pdf", "application/pdf", filled.getvalue())],
                       message_id="cli-pdf@x"))
    assert bot.run_once().states == {"processed": 1}
    [row] = bot.export()
    assert row["status"] == "waiting" and row["nom"] == "DURAND"
    failed = bot.cli("form", "pdf", "-o", str(bot.root / "absent" / "x.pdf"), check=False)
    assert failed.returncode == 2 and "écriture impossible" in failed.stderr


def test_spreadsheet_with_formulas_is_read_without_running_them(bot: Bot) -> None:
    second = ["PETIT", "Jean", "01/12/1985", "0612345678", "16000", "", "oui", ""]
    data = xlsx_bytes([ROWS[0], second], formulas={"F3": "=F2"})
    bot.drop(mail_with(DAC, "", [("calc.xlsx", XLSX, data)], message_id="formules@x"))
    assert bot.run_once().states == {"processed": 1}
    rows = {r["nom"]: r for r in bot.export()}
    assert rows["DURAND"]["status"] == "waiting"
    assert rows["PETIT"]["status"] == "incomplete" and rows["PETIT"]["problems"] == ["commune"]
    _ack, body = _one_ack(bot, "formules@x")
    assert "Commune : cellule calculée par une formule (=F2)" in body
    assert "sans jamais exécuter les formules" in body
