"""Normalisation of short French replies before pattern matching.

Lower case, no accents, typographic apostrophes unified, SMS spellings and
common typos mapped to one form ("tjr" -> "toujours", "g" -> "j'ai", "nn" ->
"non", "ouiii" -> "oui"), elisions written with a space or without apostrophe
repaired ("j ai", "jai" -> "j'ai"). Punctuation becomes spaces except ``?``
(kept as a token) and newlines (kept so commands can be read line by line).
Used by :mod:`parsers.replies`; pure and total.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["NUMBER_WORDS", "has", "normalize", "tokens"]

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "′": "'"})

_TOKEN_MAP: dict[str, str] = {
    # yes
    "ouai": "oui", "ouais": "oui", "ouaip": "oui", "ouep": "oui", "wi": "oui", "wii": "oui",
    "voui": "oui", "yes": "oui", "yep": "oui", "yup": "oui", "ui": "oui", "oue": "oui",
    # no
    "nn": "non", "nan": "non", "nop": "non", "nope": "non", "no": "non",
    # toujours
    "tjr": "toujours", "tjrs": "toujours", "tjs": "toujours", "toujour": "toujours",
    "toujous": "toujours", "tjours": "toujours", "touj": "toujours", "toujoursss": "toujours",
    # elisions without apostrophe
    "jai": "j'ai", "g": "j'ai", "cest": "c'est", "c": "c'est", "jen": "j'en", "nen": "n'en",
    "nai": "n'ai", "jattends": "j'attends", "jattend": "j'attends", "jsuis": "je suis",
    "jsui": "je suis", "chui": "je suis", "chuis": "je suis", "jss": "je suis",
    "jcherche": "je cherche", "mavez": "m'avez", "sest": "s'est",
    # spelling
    "pa": "pas", "mrc": "merci", "mci": "merci", "merki": "merci", "mercii": "merci",
    "bcp": "beaucoup", "pr": "pour", "kan": "quand", "qd": "quand", "ke": "que",
    "medcin": "medecin", "mdecin": "medecin", "medecn": "medecin", "medeci": "medecin",
    "medecim": "medecin", "medeccin": "medecin", "doc": "medecin", "toubib": "medecin",
    "docs": "medecins", "rdv": "rdv", "rv": "rdv", "slt": "bonjour", "bjr": "bonjour",
    "trouvais": "trouve", "trouvee": "trouve", "trouvez": "trouvez",
}

NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10,
}


def _strip_accents(text: str) -> str:
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _map_token(token: str) -> str:
    if re.fullmatch(r"o+u+i+s*", token):
        return "oui"
    if re.fullmatch(r"no+n+", token):
        return "non"
    return _TOKEN_MAP.get(token, token)


def normalize(text: str) -> str:
    """Return ``text`` lower-cased, accent-free, SMS-expanded, one space between words.

    Newlines are kept (one per line, no blank lines) and the result starts and
    ends with a space on every line so that ``" word "`` style matching works.
    """
    if not isinstance(text, str):
        return ""
    text = _strip_accents(text.translate(_APOSTROPHES).lower())
    out_lines: list[str] = []
    for raw in text.split("\n"):
        line = re.sub(r"\?", " ? ", raw)
        line = re.sub(r"[^a-z0-9'? ]+", " ", line)
        line = re.sub(r"'+", "'", line)
        line = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", line)
        # "j ai", "n en", "c est", "m a", "l ai": a lone elidable letter before a vowel word
        line = re.sub(r"\b([jnmcdlst]) (?=[aeiouyh])", r"\1'", line)
        words = [_map_token(w) for w in line.split()]
        if words:
            out_lines.append(" " + " ".join(words) + " ")
    return "\n".join(out_lines)


def tokens(norm: str) -> list[str]:
    """Words of a normalised text (``?`` included as a word)."""
    return norm.split()


def has(norm: str, patterns: tuple[re.Pattern[str], ...]) -> bool:
    """True when any compiled pattern matches the normalised text."""
    return any(p.search(norm) for p in patterns)
