"""Referral forms (fiches de saisine): read a mail body into a :class:`ReferralForm`.
May import other parsers modules only.

Pure functions (no database, network, clock or logging), never raising on user input.
The modules, in reading order:

- :mod:`.types` — the results (:class:`ReferralForm`, :class:`FieldProblem`…);
- :mod:`.labels` — labels as partners write them → canonical keys;
- :mod:`.segments` — which lines of the body are read (quotes, signatures, notices);
- :mod:`.lines` — what one line says: (key, raw value) pairs;
- :mod:`.text_form` — the lines read together (tables, values on several lines) and
  :func:`parse_text_form`;
- :mod:`.assemble` — the values read into fields, missing and invalid ones reported
  (:mod:`.required`);
- :mod:`.values` — one value read for its key, by :mod:`.dates`, :mod:`.booleans`,
  :mod:`.identity` (INS, phone, e-mail, sex) and :mod:`.names` (names, towns, postal
  codes); :mod:`.problems` words what is wrong.

Referrals sent as attachments (:mod:`.attached` lists and reads them):

- :mod:`.pdf_form` — a filled PDF form (AcroForm, pypdf); :mod:`.pdf_blank` builds the
  blank one (reportlab);
- :mod:`.batch` — a CSV/XLSX of several patients, one form per row: bytes read by
  :mod:`.sheet_bytes`, header by :mod:`.columns` (shared with ``mailbot import``),
  cells by :mod:`.cells`;
- :mod:`.xdm` — an IHE XDM archive's CDA identity (defusedxml), archives opened by
  :mod:`.zip_guard`;
- :mod:`.combine` — an attached form completed by the body's, conflicts listed.
"""

from __future__ import annotations

import datetime as dt
import email.message

from parsers.mime import body_text
from parsers.referral.text_form import parse_text_form
from parsers.referral.types import (
    BOOLEAN_KEYS,
    CANONICAL_KEYS,
    FRENCH_LABELS,
    FieldProblem,
    FieldValue,
    NotAForm,
    ProblemCode,
    ReferralForm,
    ReferralParse,
)

__all__ = [
    "BOOLEAN_KEYS",
    "CANONICAL_KEYS",
    "FRENCH_LABELS",
    "FieldProblem",
    "FieldValue",
    "NotAForm",
    "ProblemCode",
    "ReferralForm",
    "ReferralParse",
    "parse_referral_message",
    "parse_text_form",
]


def parse_referral_message(
    msg: email.message.Message, *, today: dt.date, partial: bool = False
) -> ReferralForm | NotAForm:
    """Read the referral form written in the body of ``msg`` (see :func:`parse_text_form`).

    The body is the mail's best readable text (:func:`parsers.mime.body_text`):
    plain text, or HTML with table rows as ``Label : Value`` lines, forwarded
    mails included. Never raises.
    """
    return parse_text_form(body_text(msg), today=today, partial=partial)
