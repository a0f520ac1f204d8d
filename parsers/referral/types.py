"""Typed results of reading a referral form (fiche de saisine)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

# Canonical keys (spec/referral-form.md), in the order they are shown to people.
CANONICAL_KEYS: tuple[str, ...] = (
    "nom", "nom_usage", "prenom", "date_naissance", "sexe", "ins", "telephone", "email",
    "adresse", "code_postal", "commune", "ald", "css", "ame", "mobilite_reduite",
    "situation_complexe", "urgent", "motif", "ancien_medecin", "aidant", "consentement",
    "referent_nom", "referent_structure", "referent_telephone",
)

BOOLEAN_KEYS: frozenset[str] = frozenset(
    {"ald", "css", "ame", "mobilite_reduite", "situation_complexe", "urgent", "consentement"}
)

# French label used when talking to people about a key.
FRENCH_LABELS: dict[str, str] = {
    "nom": "Nom", "nom_usage": "Nom d'usage", "prenom": "Prénom",
    "date_naissance": "Date de naissance", "sexe": "Sexe", "ins": "INS (n° de sécurité sociale)",
    "telephone": "Téléphone", "email": "E-mail", "adresse": "Adresse",
    "code_postal": "Code postal", "commune": "Commune", "ald": "ALD", "css": "CSS",
    "ame": "AME", "mobilite_reduite": "Mobilité réduite",
    "situation_complexe": "Situation complexe", "urgent": "Urgent", "motif": "Motif",
    "ancien_medecin": "Ancien médecin traitant", "aidant": "Aidant",
    "consentement": "Consentement du patient", "referent_nom": "Orienté par",
    "referent_structure": "Structure", "referent_telephone": "Tél référent",
}

# Values are str (text, ISO dates are dt.date, phone E.164 str), bool or dt.date.
FieldValue = str | bool | dt.date

ProblemCode = Literal[
    "missing",       # required and absent
    "invalid",       # present but unreadable (bad format)
    "impossible",    # a date that does not exist (31/02), age > 120, date in the future
    "bad_key",       # NIR control key wrong
    "refused",       # consent explicitly "non"
    "conflict",      # two different values for one field (both quoted in the message)
    "repeated",      # one field written too many times: a malformed form
]


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field, said for a person.

    ``message`` is French and may quote the value *as the referrer wrote it*
    (never anything else); ``example`` shows the expected form.
    """

    key: str
    code: ProblemCode
    message: str
    example: str = ""

    @property
    def label(self) -> str:
        """The French label of the field."""
        return FRENCH_LABELS.get(self.key, self.key)


@dataclass(frozen=True)
class ReferralForm:
    """What was read from one form.

    ``fields`` holds only valid, normalised values keyed by canonical key:
    ``date_naissance`` a :class:`datetime.date`, booleans as ``bool``,
    ``telephone``/``referent_telephone`` in E.164, ``code_postal`` 5 digits,
    ``ins`` 15 digits without spaces, ``sexe`` ``"F"``/``"M"``. ``problems``
    lists missing and invalid fields. ``seen`` lists every canonical key for
    which a label was found, valid or not.
    """

    fields: dict[str, FieldValue] = field(default_factory=dict)
    problems: tuple[FieldProblem, ...] = ()
    seen: frozenset[str] = frozenset()

    @property
    def complete(self) -> bool:
        """True when nothing is missing or invalid."""
        return not self.problems

    @property
    def problem_keys(self) -> list[str]:
        """Canonical keys that are missing or invalid, in canonical order, once each."""
        keys = {p.key for p in self.problems}
        return [k for k in CANONICAL_KEYS if k in keys] + sorted(keys - set(CANONICAL_KEYS))


@dataclass(frozen=True)
class NotAForm:
    """The text does not look like a referral form at all."""

    reason: str


ReferralParse = ReferralForm | NotAForm
