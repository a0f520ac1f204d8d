"""Real attachment files made by the tests: CSV in each encoding, XLSX (openpyxl), PDF forms
(pypdf from scratch, and reportlab through ``mailbot form pdf``'s blank), IHE XDM archives with
a CDA R2 header as published (HL7 CDA R2, IHE XDM, ANS CI-SIS), and mails carrying them."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from parsers.referral.pdf_blank import blank_form

HEADER = ["Nom", "Prénom", "Date de naissance", "Téléphone", "Code postal", "Commune",
          "Consentement", "Motif"]
ROWS = [["DURAND", "Marie", "12/03/1948", "06 12 34 56 78", "16000", "Angoulême", "oui",
         "départ en retraite du médecin"],
        ["MARTIN", "Lucien", "31/02/1950", "05 45 12 34 56", "16100", "Cognac", "oui", ""],
        ["", "", "", "05 45 00 00 00", "", "", "", "ligne sans patient"],
        ["LEFÈVRE", "Hélène", "02/05/1961", "", "16000", "Angoulême", "oui",
         "=HYPERLINK(\"http://x\")"]]


def csv_bytes(rows: list[list[str]], *, sep: str = ";", encoding: str = "utf-8",
              header: list[str] = HEADER) -> bytes:
    """A CSV file as a spreadsheet saves it (``utf-8-sig`` gives the BOM)."""
    lines = [sep.join(header)] + [sep.join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list[Any]], *, header: list[str] = HEADER,
               formulas: dict[str, str] | None = None) -> bytes:
    """An XLSX workbook made with openpyxl; ``formulas`` puts ``{"H2": "=1+1"}`` cells."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Patients"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text typed as such, not a formula
    for cell, formula in (formulas or {}).items():
        sheet[cell] = formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_macros(xlsx: bytes) -> bytes:
    """The workbook with a ``vbaProject.bin`` part, as Excel saves a ``.xlsm``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 512)
    return out.getvalue()


# ---------------------------------------------------------------- PDF

FILLED = {"nom": "DURAND", "prenom": "Marie", "date_naissance": "12/03/1948",
          "telephone": "06 12 34 56 78", "code_postal": "16000", "commune": "Angoulême",
          "motif": "Départ du médecin"}


def reportlab_filled(values: dict[str, str], checks: dict[str, bool], *,
                     cpts: str = "CPTS Exemple") -> bytes:
    """The reportlab blank form, filled by pypdf as a viewer would (``/V`` and ``/AS``)."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(blank_form(cpts))))
    boxes = {k: "/Yes" if v else "/Off" for k, v in checks.items()}
    writer.update_page_form_field_values(writer.pages[0], {**values, **boxes},
                                         auto_regenerate=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _appearance(writer: PdfWriter, text: str) -> Any:
    stream = DecodedStreamObject()
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream.set_data(f"/Tx BMC q BT /Helv 10 Tf 2 3 Td ({escaped}) Tj ET Q EMC".encode("latin-1"))
    stream.update({NameObject("/Type"): NameObject("/XObject"),
                   NameObject("/Subtype"): NameObject("/Form"),
                   NameObject("/BBox"): ArrayObject([NumberObject(0)] * 2 + [NumberObject(200),
                                                                             NumberObject(14)])})
    return writer._add_object(stream)


def pypdf_form(text: dict[str, str], checks: dict[str, str], *, with_values: bool = True,
               acroform: bool = True, password: str | None = None) -> bytes:
    """A form PDF built with pypdf alone. ``checks`` maps a checkbox to its state name
    (``"/Oui"``, ``"/Off"``…). Without ``with_values`` the fields have no ``/V``: only their
    appearance stream shows the text (copies saved by some viewers); without ``acroform``
    the ``/AcroForm`` dictionary is dropped, the widgets stay on the page."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    annots = ArrayObject()
    y = 800
    for name, value in text.items():
        widget = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/FT"): NameObject("/Tx"), NameObject("/T"): TextStringObject(name),
            NameObject("/Rect"): ArrayObject([FloatObject(150), FloatObject(y), FloatObject(350),
                                              FloatObject(y + 14)]),
            NameObject("/AP"): DictionaryObject({NameObject("/N"): _appearance(writer, value)}),
        })
        if with_values:
            widget[NameObject("/V")] = TextStringObject(value)
        annots.append(writer._add_object(widget))
        y -= 20
    for name, state in checks.items():
        on = state if state != "/Off" else "/Oui"
        widget = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/FT"): NameObject("/Btn"), NameObject("/T"): TextStringObject(name),
            NameObject("/Rect"): ArrayObject([FloatObject(150), FloatObject(y), FloatObject(162),
                                              FloatObject(y + 12)]),
            NameObject("/AS"): NameObject(state),
            NameObject("/AP"): DictionaryObject({NameObject("/N"): DictionaryObject({
                NameObject(on): _appearance(writer, "4"), NameObject("/Off"): _appearance(writer, "")})}),
        })
        if with_values:
            widget[NameObject("/V")] = NameObject(state)
        annots.append(writer._add_object(widget))
        y -= 20
    page[NameObject("/Annots")] = annots
    if acroform:
        writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
            {NameObject("/Fields"): ArrayObject(list(annots))})
    if password:
        writer.encrypt(user_password=password, owner_password=password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def text_only_pdf() -> bytes:
    """A PDF with the form printed as text but no fields (a flattened or scanned form)."""
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    pdf.drawString(50, 800, "Nom : DURAND    Prénom : Marie    Né le 12/03/1948")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


# ---------------------------------------------------------------- IHE XDM

NIR_ROOT = "1.2.250.1.213.1.4.8"


def cda(*, ins: str = "248031601512383", root: str = NIR_ROOT, family: str = "DURAND",
        used: str = "MARTIN", given: str = "Marie", sex: str = "F", birth: str = "19480312",
        phone: str = "+33612345678", city: str = "Angoulême") -> bytes:
    """A CDA R2 document's header (recordTarget/patientRole as the CI-SIS fills it)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="1.2.250.1.999.1.1" extension="DOC-42"/>
  <code code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="Note de consultation"/>
  <title>Demande d'orientation</title>
  <effectiveTime value="20261116100000+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <recordTarget>
    <patientRole>
      <id root="{root}" extension="{ins}"/>
      <id root="1.2.250.1.999.2" extension="IPP-123"/>
      <addr use="H"><houseNumber>12</houseNumber><streetName>rue des Lilas</streetName>
        <postalCode>16000</postalCode><city>{city}</city></addr>
      <telecom value="tel:{phone}" use="MC"/>
      <telecom value="mailto:marie.durand@exemple.fr" use="H"/>
      <patient>
        <name><given>{given}</given><family qualifier="BR">{family}</family>
          <family qualifier="SP">{used}</family></name>
        <administrativeGenderCode code="{sex}" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="{birth}"/>
      </patient>
    </patientRole>
  </recordTarget>
  <author><time value="20261116"/><assignedAuthor><id root="1.2.250.1.71.4.2.1" extension="810000000001"/></assignedAuthor></author>
</ClinicalDocument>
""".encode()


METADATA = b"""<?xml version="1.0" encoding="UTF-8"?>
<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
    xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
  <rim:RegistryObjectList>
    <rim:ExtrinsicObject id="Document01" mimeType="text/xml"
        objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
      <rim:Slot name="URI"><rim:ValueList><rim:Value>DOC0001.XML</rim:Value></rim:ValueList></rim:Slot>
    </rim:ExtrinsicObject>
  </rim:RegistryObjectList>
</lcm:SubmitObjectsRequest>
"""


def xdm_zip(document: bytes | None = None, *, extra: dict[str, bytes] | None = None,
            metadata: bytes = METADATA) -> bytes:
    """An IHE_XDM.ZIP: INDEX.HTM, README.TXT, IHE_XDM/SUBSET01/METADATA.XML and DOC0001.XML."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("INDEX.HTM", "<html><body>IHE XDM</body></html>")
        archive.writestr("README.TXT", "Archive IHE XDM")
        archive.writestr("IHE_XDM/SUBSET01/METADATA.XML", metadata)
        archive.writestr("IHE_XDM/SUBSET01/DOC0001.XML", document if document is not None else cda())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def bomb_zip() -> bytes:
    """A zip member inflating to 200 MB from a few hundred kB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("IHE_XDM/SUBSET01/METADATA.XML", METADATA)
        with archive.open("IHE_XDM/SUBSET01/DOC0001.XML", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(200):
                member.write(chunk)
    return out.getvalue()


# ---------------------------------------------------------------- mails

def mail_with(sender: str, body: str, files: list[tuple[str, str, bytes]], *,
              message_id: str, headers: dict[str, str] | None = None,
              subject: str = "Orientation patient") -> bytes:
    """A mail with a text body and attachments ``(filename, mime type, bytes)``."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "liste-attente@cpts-exemple.mssante.fr"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 16 Nov 2026 10:00:00 +0100"
    msg["Message-ID"] = f"<{message_id}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, ctype, data in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def forwarded(sender: str, inner: bytes, *, message_id: str) -> bytes:
    """A mail whose only content is another mail attached as message/rfc822."""
    from email import message_from_bytes, policy

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "liste-attente@cpts-exemple.mssante.fr"
    msg["Subject"] = "TR: Fiche de saisine"
    msg["Message-ID"] = f"<{message_id}>"
    msg.set_content("Bonjour, je vous transfère la fiche ci-jointe.\n")
    msg.add_attachment(message_from_bytes(inner, policy=policy.default))
    return msg.as_bytes()
