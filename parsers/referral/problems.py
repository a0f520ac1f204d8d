"""How a value reader reports an unreadable value: a :class:`FieldProblem` for a person.

The message is French and quotes the value *as the referrer wrote it*
(:func:`quote`); the example shows the expected form (:data:`EXAMPLES`).
"""

from __future__ import annotations

from parsers.referral.types import FieldProblem, ProblemCode

EXAMPLES: dict[str, str] = {
    "nom": "DURAND", "nom_usage": "MARTIN", "prenom": "Marie", "date_naissance": "12/03/1948",
    "sexe": "F ou M", "ins": "2 48 03 16 015 123 83", "telephone": "06 12 34 56 78",
    "email": "prenom.nom@exemple.fr", "code_postal": "16000", "commune": "Angoulême",
    "consentement": "oui", "referent_telephone": "05 45 00 00 00",
}


def quote(raw: str) -> str:
    """The value as the referrer wrote it, between French quotes (shortened if long)."""
    text = " ".join(raw.split())
    return f"« {text if len(text) <= 60 else text[:57] + '…'} »"


def problem(key: str, code: ProblemCode, message: str) -> FieldProblem:
    """A problem with ``key``, with the example of the expected form when there is one."""
    return FieldProblem(key, code, message, EXAMPLES.get(key, ""))
