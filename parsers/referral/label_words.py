"""Labels recognised from their words: a head noun and the qualifiers partners add.

"N° de téléphone portable de la patiente", "Nom de naissance du résident",
"Adresse postale complète", "Date de naissance de l'enfant" are not listed one by
one in :mod:`parsers.referral.labels`: a label is read here as *head noun*
(nom, prénom, téléphone, adresse…) plus words that only say which kind of value
it is (de naissance, d'usage, portable, fixe, postale…), whose it is (du patient,
de la résidente…) or that it is a number (N°, numéro). Every word must be one of
those, so "Téléphone du secrétariat" or "Nom du médecin" are not the patient's.
Words one letter off a label word ("naissannce", "telephon", "adress") are
corrected first (:func:`correct`). Pure functions on folded text
(:func:`parsers.referral.labels.normalise`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

# Whose the value is: never changes which field it is.
_OWNERS = frozenset({
    "patient", "patiente", "assure", "assuree", "resident", "residente", "beneficiaire", "usager",
    "usagere", "personne", "adherent", "adherente", "malade", "interesse", "interessee", "enfant",
    "administre", "administree", "client", "cliente",
})
_GLUE = frozenset({"de", "du", "d", "la", "le", "l", "les", "des", "en", "a", "au", "e", "s", "son", "sa"})
_NUMBER = frozenset({"n", "no", "num", "numero", "nr", "nro"})
# A child is reached through a parent: "N° de téléphone de la maman" is the way to reach the patient.
_PARENTS = frozenset({"maman", "mere", "papa", "pere", "parents", "parent"})

_EMAIL_HEADS = frozenset({"mail", "email", "courriel", "mel", "emails", "mails"})
_EMAIL_WORDS = frozenset({"adresse", "electronique", "perso", "personnel", "personnelle", "principal",
                          "principale", "contact"})
_PHONE_HEADS = frozenset({"telephone", "tel", "tels", "telephones", "portable", "mobile", "fixe", "gsm",
                          "phone", "port", "mob", "tph"})
_PHONE_WORDS = frozenset({"portable", "mobile", "fixe", "domicile", "perso", "personnel", "personnelle",
                          "principal", "principale", "joignable", "port", "dom", "mob", "contact",
                          "maison"})
_ADDRESS_WORDS = frozenset({"postale", "postal", "domicile", "complete", "personnelle", "actuelle",
                            "residence", "habitation", "principale", "exacte"})
_TOWN_HEADS = frozenset({"commune", "ville", "localite"})
_TOWN_WORDS = frozenset({"residence", "domicile", "habitation", "actuelle"})
_NAME_HEADS = frozenset({"nom", "noms"})
_USAGE_WORDS = frozenset({"usage", "marital", "maritale", "epouse", "mariage", "usuel", "utilise",
                          "actuel", "epoux"})
# Not "fille": "Nom de la fille" is the daughter's ("nom de jeune fille" is listed in labels.py).
_BIRTH_NAME_WORDS = frozenset({"naissance", "famille", "patronymique", "majuscules", "capitales", "legal"})
_FIRST_NAME_HEADS = frozenset({"prenom", "prenoms"})
_FIRST_NAME_WORDS = frozenset({"usuel", "naissance", "usage", "premier", "principal", "premiers",
                               "complet", "complets"})
_CONSENT_HEADS = frozenset({"accord", "consentement"})
_BIRTH_WORDS = frozenset({"date", "ne", "nee", "jour", "jj", "mm", "aaaa", "format"})


def _only(words: Iterable[str], allowed: frozenset[str]) -> bool:
    return all(w in allowed or w in _OWNERS or w in _GLUE or w in _NUMBER for w in words)


@functools.lru_cache(maxsize=4096)
def word_key(folded: str) -> str | None:
    """The canonical key named by ``folded`` (a normalised label), read word by word, else ``None``."""
    words = folded.split()
    if not words or len(words) > 10:
        return None
    present = set(words)
    if present & _EMAIL_HEADS or {"e", "mail"} <= present:
        return "email" if _only(words, _EMAIL_WORDS | _EMAIL_HEADS | _PARENTS) else None
    if present & _PHONE_HEADS:
        return "telephone" if _only(words, _PHONE_WORDS | _PHONE_HEADS | _PARENTS) else None
    if "adresse" in present:
        return "adresse" if _only(words, _ADDRESS_WORDS | {"adresse"}) else None
    if "code" in present and present & {"postal", "postale"}:
        return "code_postal" if _only(words, _TOWN_WORDS | {"code", "postal", "postale"}) else None
    if present & _TOWN_HEADS:
        return "commune" if _only(words, _TOWN_WORDS | _TOWN_HEADS) else None
    if present & _FIRST_NAME_HEADS:
        return "prenom" if _only(words, _FIRST_NAME_WORDS | _FIRST_NAME_HEADS) else None
    if present & _NAME_HEADS:
        if not _only(words, _NAME_HEADS | _USAGE_WORDS | _BIRTH_NAME_WORDS):
            return None
        return "nom_usage" if present & _USAGE_WORDS else "nom"
    if "naissance" in present and _only(words, _BIRTH_WORDS | {"naissance"}):
        return "date_naissance"
    if present & _CONSENT_HEADS and _only(words, _CONSENT_HEADS):  # "Accord de l'intéressée"
        return "consentement"
    return None


VOCABULARY: frozenset[str] = (
    _OWNERS | _EMAIL_HEADS | _EMAIL_WORDS | _PHONE_HEADS | _PHONE_WORDS | _ADDRESS_WORDS | _TOWN_HEADS
    | _TOWN_WORDS | _USAGE_WORDS | _BIRTH_NAME_WORDS | _FIRST_NAME_HEADS | _FIRST_NAME_WORDS
    | _BIRTH_WORDS | {"adresse", "naissance", "numero", "postal", "postale", "consentement", "accord"}
)
_MIN_TYPO_LENGTH = 6  # shorter words have too many real neighbours


def _one_edit(word: str, target: str) -> bool:
    """True when ``word`` is ``target`` with one letter added, missing, changed or two swapped."""
    if word == target or abs(len(word) - len(target)) > 1:
        return False
    if len(word) == len(target):
        diff = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and word[diff[0]] == target[diff[1]] and word[diff[1]] == target[diff[0]])
    short, long_ = (word, target) if len(word) < len(target) else (target, word)
    index = next((i for i, (a, b) in enumerate(zip(short, long_, strict=False)) if a != b), len(short))
    return short[index:] == long_[index + 1:]


@functools.lru_cache(maxsize=8192)
def correct_word(word: str, vocabulary: frozenset[str]) -> str:
    """``word``, or the single vocabulary word one typing slip away (same first letter)."""
    if len(word) < _MIN_TYPO_LENGTH or word in vocabulary or not word.isalpha():
        return word
    near = _near_words(vocabulary)
    matches = {t for size in (len(word) - 1, len(word), len(word) + 1)
               for t in near.get((word[0], size), ()) if _one_edit(word, t)}
    return matches.pop() if len(matches) == 1 else word


@functools.lru_cache(maxsize=8)
def _near_words(vocabulary: frozenset[str]) -> dict[tuple[str, int], tuple[str, ...]]:
    """The vocabulary by first letter and length: a typing slip changes the length by one
    at most and (here) never the first letter."""
    index: dict[tuple[str, int], list[str]] = {}
    for target in vocabulary:
        if target:
            index.setdefault((target[0], len(target)), []).append(target)
    return {key: tuple(words) for key, words in index.items()}


def correct(folded: str, vocabulary: frozenset[str] = VOCABULARY) -> str:
    """``folded`` with each word one typing slip off a label word corrected."""
    return " ".join(correct_word(word, vocabulary) for word in folded.split())
