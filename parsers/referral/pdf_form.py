"""A filled PDF form (AcroForm) → a :class:`ReferralForm`, read with pypdf.

Fields are found through the pages' widget annotations, so that copies whose
``/AcroForm`` dictionary a viewer dropped are read too. A field's value is its
``/V``; when a viewer saved only the look of the field, its appearance stream's
text (or a checkbox's ``/AS`` state). Any checkbox state other than ``/Off`` is
ticked (``/Yes``, ``/Oui``, ``/On``, ``/1``…). Field names are the canonical keys
(:func:`blank_form` in :mod:`parsers.referral.pdf_blank`); other names are read
as form labels. A PDF without fields is a :class:`PdfProblem`: its page text is
never guessed. Never raises.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from parsers.referral.assemble import assemble
from parsers.referral.labels import IGNORED, lookup_label
from parsers.referral.types import BOOLEAN_KEYS, CANONICAL_KEYS, ReferralForm

_IDENTITY = frozenset({"nom", "prenom", "date_naissance", "ins", "telephone"})
_MAX_WIDGETS = 500
_MAX_PAGES = 50


@dataclass(frozen=True)
class PdfProblem:
    """Why a PDF gives no form: ``code`` for the program, ``message`` in French."""

    code: str  # "encrypted", "no_fields", "empty_form", "corrupt"
    message: str


def _get(obj: Any, key: str) -> Any:
    try:
        value = obj.get(key)
        return value.get_object() if hasattr(value, "get_object") else value
    except Exception:  # a broken reference in a damaged file
        return None


def _inherited(widget: Any, key: str) -> Any:
    node, depth = widget, 0
    while node is not None and depth < 20:
        value = _get(node, key)
        if value is not None:
            return value
        node, depth = _get(node, "/Parent"), depth + 1
    return None


def _name(widget: Any) -> str:
    parts: list[str] = []
    node, depth = widget, 0
    while node is not None and depth < 20:
        title = _get(node, "/T")
        if title is not None:
            parts.append(str(title))
        node, depth = _get(node, "/Parent"), depth + 1
    return ".".join(reversed(parts))


def _appearance_text(widget: Any, reader: Any) -> str:
    """The text drawn by a field's normal appearance stream (what the viewer shows)."""
    from pypdf.generic import ContentStream

    normal = _get(_get(widget, "/AP") or {}, "/N")
    if normal is None or not hasattr(normal, "get_data"):
        return ""
    texts: list[str] = []
    for operands, operator in ContentStream(normal, reader).operations:
        if operator in (b"Tj", b"'", b'"') and operands:
            texts.append(str(operands[-1]))
        elif operator == b"TJ" and operands:
            texts.append("".join(str(item) for item in operands[0] if isinstance(item, str)))
        elif operator in (b"Td", b"TD", b"T*") and texts:
            texts.append("\n")
    return "".join(texts).strip()


def _checked(state: Any) -> bool | None:
    if state is None:
        return None
    text = str(state).lstrip("/").strip().lower()
    return None if text == "" else text not in ("off", "non", "no", "false", "0")


def _value(widget: Any, reader: Any) -> tuple[str, bool | None]:
    """``(text, ticked)`` of one widget: text for text fields, ``ticked`` for buttons."""
    kind = str(_inherited(widget, "/FT") or "")
    value = _inherited(widget, "/V")
    if kind == "/Btn":
        state = value if value is not None else _get(widget, "/AS")
        on_states = [str(k) for k in (_get(_get(widget, "/AP") or {}, "/N") or {}) if k != "/Off"]
        if (value is not None and _checked(value) and on_states
                and str(value) not in on_states and str(_get(widget, "/AS") or "") == "/Off"):
            return "", None  # a radio group: this widget is not the chosen one
        ticked = _checked(state)
        return (str(state).lstrip("/") if ticked else ""), ticked
    if value is None:  # only the look of the field was saved
        return _appearance_text(widget, reader), None
    return str(value), None


def _key(name: str) -> str | None:
    last = name.rsplit(".", 1)[-1].strip()
    if last in CANONICAL_KEYS:
        return last
    return lookup_label(last.replace("_", " "))


def _widgets(reader: Any) -> list[Any]:
    found: list[Any] = []
    for page in reader.pages[:_MAX_PAGES]:
        for annotation in _get(page, "/Annots") or []:
            widget = annotation.get_object() if hasattr(annotation, "get_object") else annotation
            if str(_get(widget, "/Subtype")) == "/Widget" and len(found) < _MAX_WIDGETS:
                found.append(widget)
    return found


def _open(data: bytes) -> Any:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        try:
            opened = bool(reader.decrypt(""))  # an owner password alone does not stop reading
        except Exception:
            opened = False
        if not opened:
            return PdfProblem("encrypted", "le PDF est protégé par un mot de passe : nous ne "
                                           "pouvons pas l'ouvrir")
    return reader


def read_pdf_form(data: bytes, *, today: dt.date) -> ReferralForm | PdfProblem:
    """The referral read from a filled PDF form, or why it cannot be read."""
    try:
        reader = _open(data)
        if isinstance(reader, PdfProblem):
            return reader
        entries: list[tuple[str, str]] = []
        fields_found = 0
        for widget in _widgets(reader):
            name = _name(widget)
            if not name:
                continue
            fields_found += 1
            key = _key(name)
            if key is None or key == IGNORED:
                continue
            text, ticked = _value(widget, reader)
            if key in BOOLEAN_KEYS and ticked is not None:
                if ticked or key != "consentement":  # an empty consent box says nothing
                    entries.append((key, "oui" if ticked else "non"))
            elif text.strip():
                entries.append((key, text))
    except Exception:  # pypdf raises many types on damaged files
        return PdfProblem("corrupt", "le PDF est endommagé : nous n'avons pas pu le lire")
    if not fields_found:
        return PdfProblem("no_fields", "le PDF ne contient pas de champs de formulaire "
                                       "remplissables (document imprimé, scanné ou aplati) : "
                                       "son texte n'est pas lu automatiquement")
    seen = frozenset(k for k, _ in entries)
    if len(seen & _IDENTITY) < 1:
        return PdfProblem("empty_form", "le formulaire PDF ne contient ni nom, ni prénom, ni date "
                                        "de naissance remplis")
    fields, problems = assemble(entries, today=today, partial=False)
    return ReferralForm(fields=fields, problems=problems, seen=seen)
