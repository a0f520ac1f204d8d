"""Cells the form reader would misread in a spreadsheet: names that look like "nothing"
("Sans", "Néant", "Aucun" are French surnames) and yes/no columns ("peut-être", an ``X``
in a column that writes oui/non).

A name cell is empty only when the whole cell is an empty marker ("NC", "-", "?");
a yes/no cell that says neither is *reported*, not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from parsers.referral.labels import normalise
from parsers.referral.problems import quote
from parsers.referral.types import BOOLEAN_KEYS, FRENCH_LABELS, FieldProblem
from parsers.referral.values import is_placeholder, parse_bool, parse_name

NAME_KEYS = frozenset({"nom", "nom_usage", "prenom"})
# In a name column only these say "nothing given": "Sans", "Rien", "Néant", "Vide", "Aucun"
# are real surnames and first names.
_NAME_BLANKS = frozenset({
    "nc", "n c", "nr", "inconnu", "inconnue", "non connu", "non connue", "non renseigne",
    "non renseignee", "non communique", "non communiquee", "a completer", "a preciser", "x",
    "xx", "xxx", "na", "n a", "sans objet", "so", "sans nom", "sans prenom", "pas de nom",
    "pas de prenom", "nom inconnu", "prenom inconnu",
})
_DOUBT = re.compile(r"\b(?:peut etre|p etre|possible\w*|probabl\w*|a voir|a confirmer|"
                    r"incertain\w*|je ne sais pas|ne sait pas|pas sur\w*|bof|en discussion)\b")
_YES_WORDS = frozenset({"oui", "o", "yes", "vrai", "true"})
_NO_WORDS = frozenset({"non", "n", "no", "faux", "false"})


def read_name(key: str, raw: str) -> str | FieldProblem | None:
    """A surname or first name cell: ``None`` only when the whole cell is an empty marker."""
    folded = normalise(raw)
    if folded in _NAME_BLANKS or not raw.strip(" -_/?.*\t…"):
        return None
    return parse_name(raw, key)


def columns_without_x(keys: dict[int, str], rows: Iterable[list[Any]]) -> frozenset[str]:
    """The yes/no columns that write both "oui" and "non": an ``X`` there means nothing sure."""
    seen: dict[str, set[str]] = {}
    for cells in rows:
        for index, key in keys.items():
            if key in BOOLEAN_KEYS and index < len(cells) and isinstance(cells[index], str):
                folded = normalise(cells[index])
                if folded in _YES_WORDS:
                    seen.setdefault(key, set()).add("oui")
                elif folded in _NO_WORDS:
                    seen.setdefault(key, set()).add("non")
    return frozenset(key for key, words in seen.items() if len(words) == 2)


def read_yes_no(key: str, raw: str, *, x_means_yes: bool = True) -> tuple[bool | None, str]:
    """A yes/no cell: ``(True|False, "")``, ``(None, "")`` when empty, or ``(None, why)``:
    the French sentence saying why it cannot be read (to report; it quotes the cell)."""
    if is_placeholder(raw, key):
        return None, ""
    folded = normalise(raw)
    label = FRENCH_LABELS.get(key, key)
    if _DOUBT.search(folded) or ("?" in raw and folded):
        return None, f"{label} : la réponse {quote(raw)} ne dit pas si c'est oui ou non"
    if folded == "x" and not x_means_yes:
        return None, (f"{label} : {quote(raw)} dans une colonne qui écrit « oui » et « non » "
                      "ne dit pas si c'est oui ou non")
    answer = parse_bool(raw, key)
    if isinstance(answer, FieldProblem):
        return None, f"{label} : {answer.message}"
    return answer, ""
