"""Referrals sent as attachments through the real servers: Dovecot (IMAPS, client certificate)
in, the MSSanté SMTP route out. One mail of each shape gives the right entries, exactly one
threaded acknowledgement each, the raw mail kept and the mail moved out of the inbox."""

from __future__ import annotations

from email import message_from_bytes
from pathlib import Path

from sqlalchemy import select

from store.models import Entry, InboundMessage
from tests import test_imap_smtp_e2e as servers_e2e
from tests.attachments_support import (
    FILLED,
    ROWS,
    csv_bytes,
    forwarded,
    mail_with,
    pypdf_form,
    reportlab_filled,
    xdm_zip,
    xlsx_bytes,
)
from tests.servers.dovecot import DovecotServer
from tests.servers.pki import Pki
from tests.servers.smtp import SmtpServer
from tests.test_imap_smtp_e2e import inbound_states, make_bot, mssante_route, run_once, sections, to
from tests.test_intake_e2e import COMPLETE, DAC, mail

provider = servers_e2e.provider  # the patients' provider's SMTP server (fixtures)
plain_smtp = servers_e2e.plain_smtp
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _shapes() -> dict[str, bytes]:
    other = {**FILLED, "nom": "PETIT", "prenom": "Jean", "date_naissance": "01/12/1985"}
    return {
        "xlsx@dac16.mssante.fr": mail_with(DAC, "Trois patients.", [
            ("patients.xlsx", XLSX, xlsx_bytes(ROWS[:2]))], message_id="xlsx@dac16.mssante.fr"),
        "csv@dac16.mssante.fr": mail_with(DAC, "", [
            ("p.csv", "text/csv", csv_bytes([ROWS[3]], sep="\t", encoding="utf-8-sig"))],
            message_id="csv@dac16.mssante.fr"),
        "pdf1@dac16.mssante.fr": mail_with(DAC, "Fiche jointe.", [
            ("fiche.pdf", "application/pdf",
             reportlab_filled({**FILLED, "nom": "ROBERT"}, {"consentement": True}))],
            message_id="pdf1@dac16.mssante.fr"),
        "pdf2@dac16.mssante.fr": mail_with(DAC, "", [
            ("f.pdf", "application/pdf", pypdf_form(other, {"consentement": "/On"}))],
            message_id="pdf2@dac16.mssante.fr"),
        "xdm@dac16.mssante.fr": mail_with(DAC, "Motif : départ du médecin\nConsentement : oui", [
            ("IHE_XDM.ZIP", "application/zip", xdm_zip())], message_id="xdm@dac16.mssante.fr",
            headers={"X-MSS-INS": "248031601512383"}),
        "fwd@dac16.mssante.fr": forwarded(DAC, mail("accueil@ehpad.fr", COMPLETE.replace("MARTIN", "SIMON"),
                                                    message_id="in@ehpad.fr"),
                                          message_id="fwd@dac16.mssante.fr"),
        "bad@dac16.mssante.fr": mail_with(DAC, "", [
            ("f.pdf", "application/pdf", pypdf_form(FILLED, {}, password="x"))],
            message_id="bad@dac16.mssante.fr"),
    }


def test_each_shape_through_imap_and_smtp(
        tmp_path: Path, database_section: dict[str, str], dovecot: DovecotServer, pki: Pki,
        smtp_server: SmtpServer, plain_smtp: SmtpServer) -> None:
    config = sections(database_section, dovecot, pki, smtp_server, plain_smtp)
    bot = make_bot(tmp_path, config, [mssante_route(smtp_server, pki)])
    shapes = _shapes()
    for raw in shapes.values():
        dovecot.deliver(raw)
    report = run_once(bot)
    assert report.fetched == len(shapes)
    assert inbound_states(bot) == {"processed": len(shapes) - 1, "escalated": 1}

    with bot.app.db.sessions() as session:
        entries = {e.nom: e for e in session.scalars(select(Entry))}
        kept = {r.message_id: r.raw for r in session.scalars(select(InboundMessage))}
    assert set(entries) == {"DURAND", "MARTIN", "LEFÈVRE", "ROBERT", "PETIT", "SIMON"}
    assert entries["PETIT"].status == "waiting" and entries["ROBERT"].status == "waiting"
    assert entries["MARTIN"].status == "incomplete"  # 31/02/1950 in the spreadsheet
    # DURAND is in the spreadsheet and in the XDM archive: one entry, the XDM merged into it.
    assert entries["DURAND"].ins == "248031601512383" and entries["DURAND"].sexe == "F"
    # The raw mail is kept byte for byte (the IMAP server stores lines ending in CRLF).
    assert {mid: raw.replace(b"\r\n", b"\n") for mid, raw in kept.items()} == shapes

    answers = [message_from_bytes(raw) for raw in to(smtp_server, DAC)]
    replied = sorted(str(a["In-Reply-To"]).strip("<>") for a in answers)
    assert replied == sorted(shapes)  # exactly one threaded answer per mail
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages("Traites")) == len(shapes)
