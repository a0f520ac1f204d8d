"""Value readers for the referral form: raw text as written → normalised value or problem.

Every ``parse_*`` function returns either the normalised value or a
:class:`FieldProblem` (French message quoting the value as written). None of
them raises on user input. :func:`parse_field` dispatches by canonical key and
also answers ``None`` when the referrer wrote a placeholder ("NC", "néant", "-")
meaning *nothing given*.

The readers live in small modules — :mod:`~parsers.referral.dates`,
:mod:`~parsers.referral.booleans`, :mod:`~parsers.referral.identity` (INS, phone,
e-mail, sex), :mod:`~parsers.referral.names` (names, towns, postal codes) — and
are all importable from here.
"""

from __future__ import annotations

import datetime as dt

from parsers.referral.booleans import (
    CHECKED_MARKS,
    MARK,
    MARK_RE,
    UNCHECKED_MARKS,
    is_checked,
    parse_bool,
    strict_bool,
)
from parsers.referral.dates import MAX_AGE, parse_date
from parsers.referral.identity import nir_key, parse_email, parse_nir, parse_phone, parse_sexe
from parsers.referral.labels import normalise
from parsers.referral.names import (
    CIVILITY,
    clean_text,
    parse_name,
    parse_postal_code,
    split_cp_commune,
    split_full_name,
)
from parsers.referral.problems import EXAMPLES, quote
from parsers.referral.types import BOOLEAN_KEYS, FieldProblem, FieldValue

__all__ = [
    "CHECKED_MARKS", "CIVILITY", "EXAMPLES", "MARK", "MARK_RE", "MAX_AGE", "UNCHECKED_MARKS",
    "clean_text", "is_checked", "is_placeholder", "nir_key", "parse_bool", "parse_date",
    "parse_email", "parse_field", "parse_name", "parse_nir", "parse_phone", "parse_postal_code",
    "parse_sexe", "quote", "split_cp_commune", "split_full_name", "strict_bool",
]

_PLACEHOLDERS = frozenset({
    "", "nc", "n c", "nr", "inconnu", "inconnue", "non connu", "non connue", "non renseigne",
    "non renseignee", "non communique", "non communiquee", "a completer", "a preciser",
    "ne sait pas", "nsp", "en attente", "en cours", "a venir", "a recueillir", "a demander",
    "non recueilli", "non demande", "xxx", "xx", "na", "n a", "sans objet", "so",
})
# "CSS : en cours de demande", "INS : à vérifier": not known yet.
_PENDING = ("en cours", "demande en cours", "a faire", "a demander", "a verifier", "a venir",
            "en attente", "ne sait pas", "inconnu", "non renseigne", "non connu")
_NOTHING = frozenset({
    "non", "aucun", "aucune", "neant", "pas de mail", "pas d email", "pas d e mail",
    "pas de telephone", "pas de tel", "pas de portable", "sans", "pas d adresse mail",
    "n a pas de mail", "n a pas d email", "n a pas de telephone", "pas de courriel", "x",
})
_PHONE_KEYS = frozenset({"telephone", "referent_telephone"})
_NAME_KEYS = frozenset({"nom", "nom_usage", "prenom", "commune"})


def is_placeholder(raw: str, key: str) -> bool:
    """True when ``raw`` says *nothing given* for ``key`` ("NC", "-", "pas de mail")."""
    if key in BOOLEAN_KEYS and MARK_RE.search(raw):
        return False
    folded = normalise(raw)
    if folded in _PLACEHOLDERS or not raw.strip(" -_/?.*\t…") or folded.startswith(_PENDING):
        return True
    return key not in BOOLEAN_KEYS and folded in _NOTHING


def parse_field(key: str, raw: str, *, today: dt.date) -> FieldValue | FieldProblem | None:
    """Read the value of canonical ``key``; ``None`` when nothing was given."""
    if is_placeholder(raw, key):
        return None
    if key in BOOLEAN_KEYS:
        answer = parse_bool(raw, key)
        # An optional criterion left unreadable ("Oui / Non" of a blank template) says nothing.
        return None if isinstance(answer, FieldProblem) and key != "consentement" else answer
    if key == "date_naissance":
        return parse_date(raw, today=today)
    if key == "ins":
        return parse_nir(raw)
    if key in _PHONE_KEYS:
        return parse_phone(raw, key)
    if key == "email":
        return parse_email(raw)
    if key == "code_postal":
        return parse_postal_code(raw)
    if key == "sexe":
        return parse_sexe(raw)
    if key in _NAME_KEYS:
        return parse_name(raw, key)
    text = clean_text(raw)
    return text or None
