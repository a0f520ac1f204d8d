"""Sections of a form: the lines under "Personne à prévenir", "Professionnel orienteur" or
"Ancien médecin traitant" are that person's, not the patient's.

Forms are often laid out in sections, each with its own "Nom / Prénom / Téléphone"
lines::

    IDENTITÉ DU PATIENT          PERSONNE À PRÉVENIR         Professionnel orienteur
    Nom : DURAND                 Nom : DURAND                Nom : MARTIN
    Prénom : Marie               Prénom : Sophie             Tél : 05 45 24 40 40
    Tél : 06 12 34 56 78         Tél : 06 99 88 77 66

A heading (a caregiver, referrer or former-GP label alone on its line) opens a
section; its lines of identity and contact are rerouted: to the caregiver's or
former GP's text (``Nom : DURAND`` …), or to the referrer's fields (name,
phone). The section ends at the first blank line after its lines, at a boundary,
at a patient heading ("Patient", "Identité du patient") or at a line no such
person has (Motif, Consentement, Date de naissance…). :func:`route_sections` works
on the entries of :func:`parsers.referral.text_form._read`, where :data:`BREAK`
marks blank lines.
"""

from __future__ import annotations

from collections.abc import Iterable

from parsers.referral.labels import CONTACT, CP_COMMUNE, IGNORED, NOM_PRENOM, PRENOM_NOM
from parsers.referral.types import FRENCH_LABELS

BREAK = "+break"
"""Pseudo-entry for a blank line, a boundary or a blanked line (ignored when assembling)."""

Entry = tuple[str, str]

_TEXT_SECTIONS = frozenset({"aidant", "ancien_medecin"})
_REFERRER_SECTIONS = frozenset({"referent_nom", "referent_structure"})
_PATIENT_HEADINGS = frozenset({NOM_PRENOM, PRENOM_NOM})
# What a caregiver, a referrer or a former GP has in their section.
_PERSON_KEYS = frozenset({
    "nom", "nom_usage", "prenom", "sexe", "telephone", "email", "adresse", "code_postal", "commune",
    IGNORED, CONTACT, CP_COMMUNE, "referent_telephone", "referent_structure",
})
_LABELS = {**FRENCH_LABELS, CONTACT: "Coordonnées", CP_COMMUNE: "CP / Ville"}


def _empty(value: str) -> bool:
    return not value.strip(" \t*_>→")


class _Section:
    """The section being read and what its lines said."""

    def __init__(self, out: list[Entry]) -> None:
        self.out = out
        self.key: str | None = None
        self.taken = False
        self.name: list[str] = []

    def open(self, key: str) -> None:
        self.close()
        self.key = key

    def take(self, key: str, value: str) -> None:
        """One line of the section, rerouted to whom it belongs."""
        self.taken = True
        value = value.strip()
        if self.key in _TEXT_SECTIONS:
            if key != IGNORED and not _empty(value):
                self.out.append((self.key, f"{_LABELS.get(key, key)} : {value}"))
        elif key in ("nom", "prenom", "nom_usage") and not _empty(value):
            self.name.append(value)
        elif key in ("telephone", "referent_telephone"):
            self.out.append(("referent_telephone", value))
        elif key == "referent_structure":
            self.out.append((key, value))

    def close(self) -> None:
        if self.name:
            self.out.append(("referent_nom", " ".join(self.name)))
        self.key, self.taken, self.name = None, False, []


def route_sections(entries: Iterable[Entry]) -> list[Entry]:
    """``entries`` with the lines of caregiver, referrer and former-GP sections rerouted."""
    out: list[Entry] = []
    section = _Section(out)
    for key, value in entries:
        if key == BREAK:
            if section.key and section.taken:
                section.close()
            continue
        if _empty(value) and key in _PATIENT_HEADINGS:
            section.close()
        elif _empty(value) and key in _TEXT_SECTIONS | _REFERRER_SECTIONS:
            section.open(key)
        elif section.key and key in _PERSON_KEYS:
            section.take(key, value)
            continue
        elif section.key:
            section.close()
        out.append((key, value))
    section.close()
    return out
