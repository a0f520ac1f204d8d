"""A sender's signature recognised by its shape, wherever it is (above, below or around a form).

A signature is the end of a paragraph (lines between blank lines) that starts
with *who* wrote: a person's name ("Julie MARTIN", "Dr Paul VINCENT"), a role
("Assistante sociale", "Infirmière coordinatrice") or an establishment
("CH d'Angoulême", "Pharmacie de la Gare", "CPAM de la Charente"), and holds
*how to reach them*: a phone or fax number, an e-mail, a web site, a postal
address. It holds no line of the patient's form (Nom, Prénom, Né le, Motif…): its
phone, e-mail and address lines are the sender's, never the patient's. A name
or role written as the value of a label ("Adresse :" then "EHPAD Bellevue") is not
a signature. :func:`blank_signatures` blanks them (step 1 of
:mod:`parsers.referral.text_form`, with :mod:`parsers.referral.segments`).
"""

from __future__ import annotations

import re

from parsers.referral.labels import CONTACT, CP_COMMUNE, IGNORED, normalise
from parsers.referral.lines import NAME_KEY, TOWN_KEY, parse_line, unlabelled_entries

Lines = list[str | None]

# Keys a signature's lines may carry (the sender's own details).
_CONTACT_KEYS = frozenset({
    "telephone", "email", "adresse", "code_postal", "commune", "referent_telephone", IGNORED,
    CONTACT, CP_COMMUNE, TOWN_KEY, NAME_KEY,
})
# Keys a role line may be mistaken for ("Médecin coordonnateur – EHPAD" reads as a former GP).
_ROLE_KEYS = _CONTACT_KEYS | {"ancien_medecin", "referent_nom", "referent_structure"}
# Values that go on over the next lines: a role under them is still their value.
_CONTINUED_KEYS = frozenset({"adresse", "motif", "aidant", "ancien_medecin", "referent_nom",
                             "referent_structure", CONTACT})
_MAX_WHO_WORDS = 14
_MAX_VALUE_LINES = 8  # a value under its label (an address) is never longer

_ROLE = re.compile(
    r"\b(?:assistante?s? sociale?s?|as|ide|idel|idec|infirmi\w+|coordinat\w+|cadre|secretariat|"
    r"secretaire|service|ch|chu|chr|chs|centre hospitalier|hopital|clinique|dac|cpam|ccas|cias|mairie|"
    r"maire|ehpad|ssiad|ssr|had|pharmacie|pharmacien\w*|officine|cabinet|msp|maison de sante|"
    r"maison medicale|france services|udaf|mandataire|medecin|dr|docteur|directeur|directrice|direction|"
    r"conseill\w+|adjoint\w*|pmi|cmp|association|accueil|pole|unite|departement|caisse|agence|equipe|"
    r"bureau|psychologue|cesf|educat\w+|charge\w* de mission|responsable|gestionnaire|plateforme|reseau|"
    r"cpts|delegation|mission|gerontolog\w+|geriatri\w+|sage femme|kinesitherapeute|ergotherapeute|"
    r"dieteticien\w*|aide soignante?|auxiliaire de vie|travailleur social|referente? de parcours)\b"
)
_UPPER_WORD = r"[A-ZÀ-Ý][A-ZÀ-Ý'-]+"
_TITLE_WORD = r"[A-ZÀ-Ý][a-zà-ÿ]+(?:-[A-ZÀ-Ý][a-zà-ÿ]+)?"
_NAME = re.compile(
    rf"^\s*(?:(?:Dr|Docteur|Pr|Professeur)\.?\s+(?:{_TITLE_WORD}\s+)*(?:{_UPPER_WORD}|{_TITLE_WORD})"
    rf"|(?:{_TITLE_WORD}\s+)+{_UPPER_WORD}(?:\s+{_UPPER_WORD})?|{_UPPER_WORD}\s+{_TITLE_WORD})"
    r"\s*(?:$|[,–—|/-])"
)
_CIVILITY_NAME = re.compile(r"^\s*(?:Mme|Madame|Mlle|Mademoiselle|M\.|Mr|Monsieur)\s")
_REACH = re.compile(
    r"(?:\+33|(?<!\d)0)\s*[1-9](?:[ .\-]?\d{2}){4}(?!\d)|@|\bfax\b|www\.|https?:|(?<!\d)\d{5}\s+\w|"
    r"\bcedex\b|\bt[ée]l\b",
    re.IGNORECASE,
)


def _keys(line: str) -> set[str]:
    pairs = parse_line(line)
    if pairs:
        return {key for key, _ in pairs}
    return {key for key, _ in unlabelled_entries(line)}


def _who(line: str) -> str:
    """``"name"``, ``"role"`` or ``""``: does the line say who wrote (name, role, establishment)?"""
    if len(line.split()) > _MAX_WHO_WORDS or line.rstrip().endswith(":"):
        return ""
    if not _keys(line) <= _ROLE_KEYS:
        return ""
    if _ROLE.search(normalise(line.split(":")[0])):
        return "role"
    if _NAME.match(line) and not _CIVILITY_NAME.match(line):
        return "name"
    return ""


def _continues_value(lines: Lines, index: int) -> bool:
    """True when the line at ``index`` is the value (or part of the value) of a label above it."""
    back = index - 1
    while back >= 0 and lines[back] and not parse_line(lines[back] or ""):
        back -= 1  # unlabelled lines of the same paragraph: maybe an address going on
        if index - back > _MAX_VALUE_LINES:
            return False
    blanks = 0
    while back >= 0 and lines[back] == "" and blanks < 3:  # a value may sit under blank lines
        back, blanks = back - 1, blanks + 1
    if back < 0 or not lines[back]:
        return False
    pairs = parse_line(lines[back] or "")
    if not pairs:
        return False
    key, value = pairs[-1]
    if blanks and value.strip(" \t*_"):
        return False
    return key in _CONTINUED_KEYS or not value.strip(" \t*_")


def _signature_head(lines: Lines, block: list[int]) -> int:
    """How many first lines of a paragraph are a signature glued on top of the form ("Pauline
    ROUX / CCAS de Ruelle / Tél : 05…" then "Nom : …" without a blank line): 0 if none.

    Stricter than a signature ending a paragraph: it opens the paragraph with who wrote,
    names a role or an establishment, and the form follows it."""
    whos: list[str] = []
    end = 0
    for index in block:
        line = lines[index] or ""
        who = _who(line)
        if not who and not _keys(line) <= _CONTACT_KEYS:
            break
        if not whos and not who:
            return 0
        whos.append(who)
        end += 1
    head = [lines[i] or "" for i in block[:end]]
    if end == len(block) or "role" not in whos or not any(_REACH.search(line) for line in head):
        return 0
    return end


def _signature_start(lines: Lines, block: list[int]) -> int | None:
    """Where the signature of a paragraph starts (an index in ``block``), or ``None``."""
    starts: list[int] = []
    for position, index in enumerate(block):
        line = lines[index] or ""
        keys = _keys(line)
        who = _who(line)
        if not who and not keys <= _CONTACT_KEYS:
            starts.clear()  # a line of the form: no signature above it in this paragraph
            continue
        if who and not _continues_value(lines, index):
            starts.append(position)
    if not starts:
        return None
    reach_from = len(block)  # the last line of the paragraph that says how to reach someone
    for position in range(len(block) - 1, starts[0] - 1, -1):
        if _REACH.search(lines[block[position]] or ""):
            reach_from = position
            break
    return next((position for position in starts if position <= reach_from), None)


def blank_signatures(lines: Lines) -> Lines:
    """``lines`` with every signature block set to ``None`` (not read)."""
    index = 0
    while index < len(lines):
        if not lines[index]:
            index += 1
            continue
        block = []
        while index < len(lines) and lines[index]:
            block.append(index)
            index += 1
        if not _continues_value(lines, block[0]):
            for position in block[:_signature_head(lines, block)]:
                lines[position] = None
        start = _signature_start(lines, block)
        if start is not None:
            for position in block[start:]:
                lines[position] = None
    return lines
