"""Names, towns and postal codes, and the compound values that hold them
(``Mme DURAND Marie, née le…``, ``16000 Angoulême``, ``Angoulême (16000)``)."""

from __future__ import annotations

import re

from parsers.referral.problems import problem, quote
from parsers.referral.types import FieldProblem

_LETTER = re.compile(r"[^\W\d_]")
_POSTAL_SPACES = re.compile(r"[\s.\u00a0\u202f]")
_POSTAL_CODE = re.compile(r"\d{5}")


def clean_text(raw: str) -> str:
    """Free text tidied: markdown emphasis, surrounding punctuation and extra spaces removed."""
    lines = [" ".join(line.replace("**", "").split()) for line in raw.splitlines()]
    return "\n".join(line for line in lines if line).strip(" \t*_,;\"'")


def parse_name(raw: str, key: str) -> str | FieldProblem:
    """Read a name or a town: tidied text that must contain a letter."""
    text = clean_text(raw).rstrip(".")
    if not _LETTER.search(text):
        return problem(key, "invalid", f"la valeur {quote(raw)} n'est pas un nom lisible")
    return text


def parse_postal_code(raw: str, key: str = "code_postal") -> str | FieldProblem:
    """Read a postal code: exactly 5 digits once spaces and dots are removed ("16 000")."""
    compact = _POSTAL_SPACES.sub("", raw)
    if _POSTAL_CODE.fullmatch(compact):
        return compact
    return problem(key, "invalid", f"le code postal {quote(raw)} doit comporter 5 chiffres")


# ---------------------------------------------------------------- compound values

CIVILITY = re.compile(r"^\s*(mme|madame|mlle|mademoiselle|mr|m|monsieur)\b\.?\s+", re.IGNORECASE)
_NAME_END = re.compile(r"[,(;:]|\s[-–—]\s|\b(?:n[ée]e?|ddn|age|âg[ée]e?)\b|\d", re.IGNORECASE)
_CP_FIRST = re.compile(r"^\s*(\d[\d .]{2,6}\d)(?!\d)\s*[-,]?\s*(.*?)\s*$")
_CP_LAST = re.compile(r"^\s*(\D*?)[\s,(-]*(\d{2} ?\d{3})\)?\s*$")
_CP_IN_ADDRESS = re.compile(r"(?<![\d.])(\d{5}|\d{2} \d{3})\s+([^\d,]+?)\s*(?:cedex\b.*)?$", re.I)


def split_full_name(raw: str, *, prenom_first: bool = False) -> tuple[str, str, str, str]:
    """``Mme DURAND Marie, née le 12/03/1948`` → (nom, prénom, civilité, rest).

    Words in capitals are the last name; without capitals the order of the
    label decides (``Nom Prénom`` or ``Prénom Nom``).
    """
    text = raw.strip()
    civility = CIVILITY.match(text)
    if civility:
        text = text[civility.end():]
    end = _NAME_END.search(text)
    name, rest = (text[:end.start()], text[end.start():]) if end else (text, "")
    tokens = name.split()
    upper = [t for t in tokens if t.isupper() and len(t.strip(".-'")) > 1]
    if upper and len(upper) < len(tokens):
        nom, prenom = " ".join(upper), " ".join(t for t in tokens if t not in upper)
    elif len(tokens) == 1 and rest.startswith(","):  # "DURAND, Marie"
        nom, prenom = name.strip(), rest.split(",")[1].strip()
        rest = ",".join(rest.split(",")[2:])
    elif len(tokens) >= 2 and prenom_first:
        nom, prenom = " ".join(tokens[1:]), tokens[0]
    elif len(tokens) >= 2:
        nom, prenom = tokens[0], " ".join(tokens[1:])
    else:
        nom, prenom = name.strip(), ""
    return nom, prenom, civility[1] if civility else "", rest


def split_cp_commune(raw: str, *, anywhere: bool = False) -> tuple[str, str]:
    """``16000 Angoulême`` / ``Angoulême (16000)`` → (postal code as written, town).

    With ``anywhere`` (an address line) only a 5-digit code followed by a town at
    the end counts. Answers ``("", "")`` when no code is written.
    """
    if anywhere:
        match = _CP_IN_ADDRESS.search(raw)
        return (match[1], match[2].strip(" ,")) if match else ("", "")
    match = _CP_FIRST.match(raw) or _CP_LAST.match(raw)
    if not match:
        return "", ""
    if match.re is _CP_FIRST:
        return match[1].strip(), match[2].strip(" ,-")
    return match[2], match[1].strip(" ,-(")
