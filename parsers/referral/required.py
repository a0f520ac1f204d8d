"""Which fields a referral must have before the patient can wait for a doctor."""

from __future__ import annotations

from collections.abc import Mapping

from parsers.referral.types import FieldProblem, FieldValue

REQUIRED_KEYS: tuple[str, ...] = ("nom", "prenom", "date_naissance", "code_postal", "commune")

_EXAMPLES = {
    "nom": "DURAND", "prenom": "Marie", "date_naissance": "12/03/1948",
    "code_postal": "16000", "commune": "Angoulême",
}


def missing_problems(fields: Mapping[str, FieldValue]) -> list[FieldProblem]:
    """Problems for every required field absent from ``fields`` (valid values only)."""
    problems = [
        FieldProblem(key, "missing", "information manquante", _EXAMPLES[key])
        for key in REQUIRED_KEYS if fields.get(key) in (None, "")
    ]
    if not fields.get("telephone") and not fields.get("email"):
        problems.append(FieldProblem(
            "telephone", "missing",
            "il faut au moins un moyen de joindre le patient : téléphone ou e-mail",
            "06 12 34 56 78"))
    consent = fields.get("consentement")
    if consent is None:
        problems.append(FieldProblem(
            "consentement", "missing",
            "l'accord du patient pour être inscrit et recontacté n'est pas indiqué", "oui"))
    elif consent is False:
        problems.append(FieldProblem(
            "consentement", "refused",
            "le patient n'a pas donné son accord : nous ne pouvons pas l'inscrire sans lui", "oui"))
    return problems
