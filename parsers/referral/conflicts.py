"""A form that says two different things for one field: never keep the first silently.

Two "Nom" lines that disagree, two birth dates, two mobile numbers: the field is
left empty and a ``conflict`` problem quotes both values as the referrer wrote
them, so that the acknowledgement asks which one is right. The same value
written again (in capitals, without accents, another date format) is no
conflict, nor a mobile and a landline (two ways to call, not two answers). A
field written more than :data:`MAX_REPEATS` times (a form pasted thousands of
times, a runaway export) is a ``repeated`` problem: the form is malformed.
"""

from __future__ import annotations

from parsers.referral.labels import normalise
from parsers.referral.problems import problem, quote
from parsers.referral.types import FieldProblem, FieldValue

MAX_REPEATS = 20
# Keys whose value is the patient's and single: the referrer's own details keep their first
# value, free text accumulates (assemble._JOINED).
CONFLICT_KEYS = frozenset({
    "nom", "nom_usage", "prenom", "date_naissance", "sexe", "ins", "telephone", "email", "adresse",
    "code_postal", "commune", "ald", "css", "ame", "mobilite_reduite", "situation_complexe", "urgent",
    "consentement",
})
_MOBILE_PREFIXES = ("+336", "+337")


def same_value(first: FieldValue, other: FieldValue) -> bool:
    """True when two read values say the same (case, accents and punctuation aside)."""
    if isinstance(first, str) and isinstance(other, str):
        return normalise(first) == normalise(other)
    return first == other


def different_roles(key: str, first: FieldValue, other: FieldValue) -> bool:
    """A mobile and a landline number: two ways to reach the patient, not a disagreement."""
    if key != "telephone" or not isinstance(first, str) or not isinstance(other, str):
        return False
    return first.startswith(_MOBILE_PREFIXES) != other.startswith(_MOBILE_PREFIXES)


def conflict_problem(key: str, raws: list[str]) -> FieldProblem:
    """The problem for a field given several different values (``raws`` as written, in order)."""
    shown = [quote(raw) for raw in raws[:3]]
    if len(raws) == 2:
        values = f"deux valeurs différentes, {shown[0]} et {shown[1]}"
    else:
        values = f"{len(raws)} valeurs différentes, {', '.join(shown)}" + ("…" if len(raws) > 3 else "")
    # No example: "(exemple : DURAND)" after two names would read as our choice.
    return FieldProblem(key, "conflict", f"la fiche indique {values} : merci de nous préciser la bonne")


def repeated_problem(key: str, count: int) -> FieldProblem:
    """The problem for a field written ``count`` times: the form looks malformed."""
    return problem(
        key, "repeated",
        f"cette rubrique apparaît au moins {count} fois : la fiche semble mal formée, merci de "
        "nous la renvoyer avec une seule ligne par rubrique")
