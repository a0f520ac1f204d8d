"""Which row of a sheet holds the column headers, and what each column means.

One mapping shared by ``mailbot import`` (:mod:`mailbot.importer.columns`) and the
batches attached to mails (:mod:`parsers.referral.batch`).

Headers are read like the referral form's labels (:mod:`parsers.referral.labels`:
case, accents, punctuation and "du patient" do not matter), plus the columns
only a waitlist has — status, registration date, date and reason of exit,
referrer's address, GP found — and the ``--map "Colonne=clé"`` overrides
(read by :func:`mailbot.importer.columns.parse_overrides`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from parsers.referral.labels import (
    CONTACT,
    CP_COMMUNE,
    IGNORED,
    NOM_PRENOM,
    PRENOM_NOM,
    lookup_label,
    normalise,
)
from parsers.referral.types import CANONICAL_KEYS

# Keys a waitlist has beyond the form's canonical fields.
STATUS = "statut"
RECEIVED = "date_inscription"
RESOLVED = "date_sortie"
EXIT_REASON = "motif_sortie"
REFERRER_EMAIL = "mail_referent"
GP = "medecin_attribue"
IMPORT_KEYS = (STATUS, RECEIVED, RESOLVED, EXIT_REASON, REFERRER_EMAIL, GP)
COMPOUND_KEYS = (NOM_PRENOM, PRENOM_NOM, CP_COMMUNE, CONTACT)
SKIP = "ignorer"

_IMPORT_SYNONYMS: dict[str, tuple[str, ...]] = {
    STATUS: ("statut", "statuts", "etat", "etat de la demande", "statut de la demande",
             "statut actuel", "situation actuelle", "suivi", "devenir", "resultat", "issue",
             "avancement", "etat du dossier", "statut patient", "etape", "status"),
    RECEIVED: ("date d inscription", "date inscription", "inscrit le", "inscrite le",
               "inscrit e le", "date de la demande", "date demande", "date de demande",
               "date de saisine", "date saisine", "date d enregistrement", "date enregistrement",
               "date de reception", "date reception", "recu le", "recue le", "date d entree",
               "date entree", "date d arrivee", "date de signalement", "date d orientation",
               "date de la saisine", "date", "date d ajout", "ajoute le", "date de la fiche"),
    RESOLVED: ("date de sortie", "date sortie", "sorti le", "sortie le", "date d attribution",
               "date attribution", "attribue le", "date de resolution", "date resolution",
               "date de cloture", "date cloture", "clos le", "cloture le", "date de fin",
               "date mt", "date de prise en charge", "date de rattachement"),
    EXIT_REASON: ("motif de sortie", "motif sortie", "motif de cloture", "motif cloture",
                  "raison de sortie", "raison de la sortie", "cause de sortie"),
    REFERRER_EMAIL: ("mail referent", "e mail referent", "email referent", "mail du referent",
                     "courriel du referent", "courriel referent", "mail professionnel",
                     "mail du professionnel", "e mail du professionnel", "mail pro",
                     "email du professionnel", "courriel professionnel", "mss referent",
                     "mssante", "mss", "mail adresseur", "mail de l adresseur",
                     "adresse mss", "messagerie securisee"),
    GP: ("medecin attribue", "medecin traitant attribue", "mt attribue", "nouveau medecin",
         "nouveau medecin traitant", "nouveau mt", "medecin trouve", "mt trouve", "attribue a",
         "attribue au dr", "medecin accepteur", "medecin ayant accepte", "medecin referent attribue",
         "nom du nouveau medecin", "medecin"),
}
_IMPORT_LOOKUP = {syn: key for key, synonyms in _IMPORT_SYNONYMS.items() for syn in synonyms}
# --map may also name the columns holding two fields at once.
COMPOUND_NAMES = {"nom_prenom": NOM_PRENOM, "prenom_nom": PRENOM_NOM, "cp_commune": CP_COMMUNE,
                  "contact": CONTACT}
VALID_KEYS = frozenset(CANONICAL_KEYS) | frozenset(IMPORT_KEYS) | frozenset(COMPOUND_NAMES) | {SKIP}
HEADER_SCAN_ROWS = 30


def column_key(label: str, overrides: Mapping[str, str], *, loose: bool = False) -> str | None:
    """The key of a column header (``None`` when unknown, :data:`IGNORED` when known useless).

    ``loose`` also accepts a few words anywhere ("Référent Tél" → ``referent_telephone``),
    for a header read together with the group title above it.
    """
    folded = normalise(label)
    if not folded:
        return None
    if folded in overrides:
        key = overrides[folded]
        return IGNORED if key == SKIP else key
    if folded in _IMPORT_LOOKUP:
        return _IMPORT_LOOKUP[folded]
    return lookup_label(label, loose=loose)


@dataclass
class Header:
    """Where the header is and what each column holds."""

    row: int                                # row number of the header (data starts below)
    keys: dict[int, str] = field(default_factory=dict)  # column index → key
    labels: dict[int, str] = field(default_factory=dict)  # column index → header as written
    unknown: list[str] = field(default_factory=list)    # headers not understood

    def recognised(self) -> list[str]:
        """The keys found, in column order (ignored columns left out)."""
        return [k.lstrip("+") for _i, k in sorted(self.keys.items()) if k != IGNORED]


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _score(keys: dict[int, str]) -> int:
    useful = {k for k in keys.values() if k != IGNORED}
    has_identity = bool(useful & {"nom", "ins", NOM_PRENOM, PRENOM_NOM})
    return len(useful) + (10 if has_identity else 0)


def _map_row(cells: list[Any], above: list[Any] | None,
             overrides: Mapping[str, str]) -> tuple[dict[int, str], dict[int, str], list[str]]:
    keys: dict[int, str] = {}
    labels: dict[int, str] = {}
    unknown: list[str] = []
    width = max(len(cells), len(above or []))
    for index in range(width):
        own = _text(cells[index]) if index < len(cells) else ""
        upper = _text(above[index]) if above is not None and index < len(above) else ""
        # A group title above ("Référent" over "Nom", "Tél") says whose column it is.
        combined = f"{upper} {own}".strip() if upper and own and upper != own else ""
        for candidate in (combined, own, upper):
            key = (column_key(candidate, overrides, loose=candidate is combined)
                   if candidate else None)
            if key is not None:
                keys[index], labels[index] = key, candidate
                break
        else:
            if own:
                unknown.append(own)
    return keys, labels, unknown


def find_header(rows: list[list[Any]], overrides: Mapping[str, str]) -> Header | None:
    """The header row among the first rows: the one naming the most known columns, one of them
    identifying the patient. A title row above it (merged "Patient", "Critères"…) names the
    columns it spans whose own header is empty or unknown."""
    best: Header | None = None
    best_score = 0
    for number, cells in enumerate(rows[:HEADER_SCAN_ROWS], start=1):
        own_keys, _own_labels, _ = _map_row(cells, None, overrides)
        if _score(own_keys) < 2:  # a data row: not worth reading with the row above
            continue
        above = rows[number - 2] if number > 1 else None
        keys, labels, unknown = _map_row(cells, above, overrides)
        score = _score(keys)
        if score > best_score and score >= 11:
            best, best_score = Header(number, keys, labels, unknown), score
    return best
