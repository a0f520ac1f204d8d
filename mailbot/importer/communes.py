"""A commune written without its postal code: the code, when the commune has only one.

The table is an extract of La Poste's *Base officielle des codes postaux*
(``mailbot/importer/data/codes_postaux.csv``, where it comes from is in the
README beside it). Names are compared folded: case, accents, hyphens and
"Saint"/"St" do not matter; a commune déléguée named on the *ligne 5* counts too.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Sequence
from importlib import resources

from parsers.referral.labels import normalise

_WORDS = {"saint": "st", "sainte": "ste", "saints": "sts", "saintes": "stes"}
_WORD = re.compile(r"\b(?:saint|sainte|saints|saintes)\b")


def commune_key(name: str) -> str:
    """``"Saint-Yrieix-sur-Charente"`` → ``"st yrieix sur charente"``: how names are compared."""
    return _WORD.sub(lambda m: _WORDS[m[0]], normalise(name))


@functools.cache
def _table() -> dict[str, frozenset[str]]:
    """Folded commune name → its postal codes."""
    text = (resources.files("mailbot.importer") / "data" / "codes_postaux.csv").read_text("utf-8")
    found: dict[str, set[str]] = {}
    for row in csv.DictReader(io.StringIO(text), delimiter=";"):
        for name in (row["Nom_commune"], row["Ligne_5"]):
            if name:
                found.setdefault(commune_key(name), set()).add(row["Code_postal"])
    return {name: frozenset(codes) for name, codes in found.items()}


def in_territory(code: str, territory: Sequence[str]) -> bool:
    """True when ``code`` is one of ``territory``'s codes or prefixes (empty: everywhere)."""
    return not territory or any(code.startswith(part) for part in territory)


def postal_codes(commune: str, territory: Sequence[str] = ()) -> list[str]:
    """The postal codes of ``commune`` in the territory (sorted; empty when unknown)."""
    codes = _table().get(commune_key(commune), frozenset())
    return sorted(code for code in codes if in_territory(code, territory))
