"""Yes/no answers and checkboxes: ``oui``/``non``, ``x``, ``[x]``/``[ ]``, ``☒``/``☐``, ``✓``,
``oui ☒ non ☐``, "oui, informé et d'accord"… → ``bool`` or a :class:`FieldProblem`."""

from __future__ import annotations

import re

from parsers.referral.labels import normalise
from parsers.referral.problems import problem, quote
from parsers.referral.types import FieldProblem

# A cross inside brackets ticks the box ("[✗]"); a bare ✗ / ❌ after an item says no.
CHECKED_MARKS = "☒☑✓✔✅■⊠▣\uf0fe\uf0fd\uf078\uf0fc"
UNCHECKED_MARKS = "☐□❏❑◻○◯▢✗✘❌\uf0a8\uf06f\uf071"
MARK = (
    rf"\[\s*[xX✓✔✗✘*+]?\s*\]|\(\s*[xX]?\s*\)|[{CHECKED_MARKS}{UNCHECKED_MARKS}]"
)
MARK_RE = re.compile(MARK)
_YES = frozenset({
    "oui", "o", "yes", "y", "x", "1", "true", "vrai", "ok", "accord", "d accord", "daccord",
    "accepte", "acceptee", "favorable", "consentant", "consentante", "obtenu", "recueilli",
    "donne", "positif",
})
_NO = frozenset({
    "non", "n", "no", "0", "false", "faux", "refus", "refuse", "refusee", "aucun", "aucune",
    "neant", "sans", "negatif", "pas d accord", "nul", "nulle",
})
_CHOICE = re.compile(rf"(?P<mark>{MARK})\s*(?P<word>oui|non|yes|no)\b", re.IGNORECASE)
_CHOICE_AFTER = re.compile(rf"\b(?P<word>oui|non|yes|no)\s*(?P<mark>{MARK})", re.IGNORECASE)
_AMBIGUOUS = re.compile(r"^\s*(?:oui|yes)\s*(?:/|ou|-|\|)\s*(?:non|no)\s*$", re.IGNORECASE)
_NEGATIVE_PHRASE = re.compile(
    r"\b(?:refus\w*|pas d accord|ne souhaite pas|n accepte pas|ne veut pas|non)\b"
)
_POSITIVE_PHRASE = re.compile(r"\b(?:d accord|accord|accepte\w*|consent\w*|informee? et)\b")


def is_checked(mark: str) -> bool:
    """True for a ticked box (``[x]``, ``☒``, ``✓``…), False for an empty one."""
    mark = mark.strip()
    if mark[:1] in "[(":
        return bool(mark[1:-1].strip())
    return mark in CHECKED_MARKS


def _choice(raw: str) -> bool | None:
    """``☒ oui ☐ non`` / ``oui [ ] non [x]`` → the single ticked answer, else None."""
    mark_first = bool(MARK_RE.match(raw.strip()))
    for pattern in (_CHOICE, _CHOICE_AFTER) if mark_first else (_CHOICE_AFTER, _CHOICE):
        answers = [(m["word"].lower() in ("oui", "yes"), is_checked(m["mark"]))
                   for m in pattern.finditer(raw)]
        if answers:
            ticked = {answer for answer, checked in answers if checked}
            return ticked.pop() if len(ticked) == 1 else None
    return None


def strict_bool(raw: str) -> bool | None:
    """A bare yes/no answer ("oui", "non", "[x]", "☐"…), ``None`` for anything else."""
    folded = normalise(raw)
    if folded in _YES or folded in _NO:
        return folded in _YES
    mark = MARK_RE.fullmatch(raw.strip())
    return is_checked(mark[0]) if mark else None


def parse_bool(raw: str, key: str) -> bool | FieldProblem:
    """Read a yes/no answer: oui/non, o/n, x, [x]/[ ], ☒/☐, ✓, 1/0, vrai/faux, "oui, informé…"."""
    choice = _choice(raw)
    if choice is not None:
        return choice
    stripped = raw.strip()
    if _AMBIGUOUS.match(stripped) or (MARK_RE.search(stripped) and len(MARK_RE.findall(stripped)) > 1):
        return problem(key, "invalid", f"la réponse {quote(raw)} ne dit pas si c'est oui ou non")
    mark = MARK_RE.match(stripped)
    if mark and not normalise(stripped[mark.end():]):
        return is_checked(mark[0])
    folded = normalise(stripped)
    words = folded.split()
    for size in (3, 2, 1):
        head = " ".join(words[:size])
        if head in _YES:
            return True
        if head in _NO:
            return False
    if _NEGATIVE_PHRASE.search(folded):
        return False
    if _POSITIVE_PHRASE.search(folded):
        return True
    if key != "consentement" and words:
        return True  # "ALD : diabète de type 2" — naming the condition says yes.
    return problem(key, "invalid", f"la réponse {quote(raw)} ne dit pas si c'est oui ou non")
