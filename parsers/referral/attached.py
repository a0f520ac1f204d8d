"""Referrals attached to a mail: filled PDF forms, CSV/XLSX batches and IHE XDM archives.

:func:`attachments` lists a mail's attached files (forwarded mails included);
:func:`read_attachments` reads each one that can hold a referral
(:mod:`.pdf_form`, :mod:`.batch`, :mod:`.xdm`) into a :class:`FoundForm`, a
:class:`FoundBatch` or a :class:`FoundProblem` saying in French why it cannot be read.
Images, signatures and other files are not referrals and are left out. Never raises.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.message
from dataclasses import dataclass

from parsers.mime import decode_header_text
from parsers.referral.batch import Batch, read_batch
from parsers.referral.pdf_form import PdfProblem, read_pdf_form
from parsers.referral.sheet_bytes import SheetProblem
from parsers.referral.types import ReferralForm
from parsers.referral.xdm import XdmProblem, identity_fields, ins_matches, read_xdm

_MAX_DEPTH = 8
_MAX_ATTACHMENTS = 50
_XLSX_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_XLSM_TYPES = {"application/vnd.ms-excel.sheet.macroenabled.12"}
_CSV_TYPES = {"text/csv", "text/comma-separated-values", "text/tab-separated-values"}


@dataclass(frozen=True)
class Attachment:
    """One attached file: its name as sent, MIME type and decoded bytes."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class FoundForm:
    """A referral read from one attachment. ``identity_only``: an XDM archive, whose other
    fields (reason, consent…) come from the body."""

    source: str
    kind: str  # "pdf" or "xdm"
    form: ReferralForm
    identity_only: bool = False


@dataclass(frozen=True)
class FoundBatch:
    """The rows of an attached spreadsheet."""

    source: str
    batch: Batch


@dataclass(frozen=True)
class FoundProblem:
    """An attachment that should hold a referral but cannot be read, and why (French)."""

    source: str
    kind: str
    code: str
    message: str


Found = FoundForm | FoundBatch | FoundProblem


def _filename(part: email.message.Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:  # malformed parameters
        name = ""
    return decode_header_text(name if isinstance(name, str) else "")[:200]


def _walk(part: email.message.Message, depth: int, out: list[Attachment]) -> None:
    if depth > _MAX_DEPTH or len(out) >= _MAX_ATTACHMENTS:
        return
    payload = part.get_payload()
    if isinstance(payload, list):
        for sub in payload:
            if isinstance(sub, email.message.Message):
                _walk(sub, depth + 1, out)
        return
    name = _filename(part)
    ctype = part.get_content_type().lower()
    if not name and (part.get_content_maintype() == "text" or depth == 0):
        return  # the body itself
    try:
        data = part.get_payload(decode=True)
    except Exception:  # broken base64
        data = None
    out.append(Attachment(name, ctype, data if isinstance(data, bytes) else b""))


def attachments(msg: email.message.Message) -> list[Attachment]:
    """Every attached file of ``msg``, those of forwarded mails included."""
    out: list[Attachment] = []
    with contextlib.suppress(Exception):  # a broken structure: what was found so far
        _walk(msg, 0, out)
    return out


def kind_of(attachment: Attachment) -> str | None:
    """``"pdf"``, ``"csv"``, ``"xlsx"``, ``"xlsm"``, ``"old_sheet"`` (``.xls``, ``.ods``), ``"xdm"``
    or ``None`` (not a referral)."""
    name = attachment.filename.lower()
    ctype = attachment.content_type
    if name.endswith(".pdf") or ctype == "application/pdf" or attachment.data[:5] == b"%PDF-":
        return "pdf"
    if name.endswith((".xls", ".ods")):
        return "old_sheet"
    if name.endswith(".xlsm") or ctype in _XLSM_TYPES:
        return "xlsm"
    if name.endswith(".xlsx") or ctype in _XLSX_TYPES:
        return "xlsx"
    if name.endswith((".csv", ".tsv")) or ctype in _CSV_TYPES:
        return "csv"
    if name.endswith(".zip") or ctype in ("application/zip", "application/x-zip-compressed"):
        return "xdm"
    return None


def _read_one(attachment: Attachment, kind: str, *, today: dt.date, mss_ins: str) -> Found:
    source = attachment.filename or f"pièce jointe {kind.upper()}"
    if kind == "xlsm":
        return FoundProblem(source, kind, "macros", "le classeur contient des macros (.xlsm) : "
                                                    "nous ne l'ouvrons pas")
    if kind == "old_sheet":
        return FoundProblem(source, kind, "old_format", "ce format de tableur (.xls, .ods) n'est "
                                                        "pas lu automatiquement")
    if kind in ("csv", "xlsx"):
        batch = read_batch(attachment.data, xlsx=kind == "xlsx", name=source, today=today)
        if isinstance(batch, SheetProblem):
            return FoundProblem(source, kind, batch.code, batch.message)
        return FoundBatch(source, batch)
    if kind == "pdf":
        form = read_pdf_form(attachment.data, today=today)
        if isinstance(form, PdfProblem):
            return FoundProblem(source, kind, form.code, form.message)
        return FoundForm(source, kind, form)
    identity = read_xdm(attachment.data)
    if isinstance(identity, XdmProblem):
        return FoundProblem(source, kind, identity.code, identity.message)
    if not ins_matches(identity, mss_ins):
        return FoundProblem(source, kind, "ins_mismatch", "l'INS du document diffère de celui "
                                                          "annoncé par l'en-tête X-MSS-INS")
    fields, problems = identity_fields(identity, today=today)
    seen = frozenset(k for k, _ in identity.entries)
    return FoundForm(source, kind, ReferralForm(fields=fields, problems=problems, seen=seen),
                     identity_only=True)


def read_attachments(msg: email.message.Message, *, today: dt.date, mss_ins: str = ""
                     ) -> list[Found]:
    """Each attachment of ``msg`` that can hold a referral, read. Never raises."""
    out: list[Found] = []
    for attachment in attachments(msg):
        kind = kind_of(attachment)
        if kind is None:
            continue
        try:
            out.append(_read_one(attachment, kind, today=today, mss_ins=mss_ins))
        except Exception:  # a reader's bug must not lose the mail: it is escalated
            out.append(FoundProblem(attachment.filename, kind, "unreadable",
                                    "la pièce jointe n'a pas pu être lue"))
    return out
