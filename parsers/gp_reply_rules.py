"""Pattern tables for GPs' answers: proposals, "devenu MT" follow-ups and mail commands.

All patterns apply to text normalised by :func:`parsers.reply_text.normalize`
(lower case, no accents, one line per input line, words between single spaces).
"""

from __future__ import annotations

import re

__all__ = [
    "ACCEPT", "ACCEPT_BLOCKERS", "ACCEPT_STRONG", "BECAME", "BECAME_STRONG", "COMMAND_LINE",
    "COMMAND_NUMBER", "DECLINE", "DECLINE_BLOCKERS", "DECLINE_LEAD", "DECLINE_STRONG",
    "DECLINE_TAIL", "DECLINE_WEAK", "FOLLOWUP_BLOCKERS", "MAX_NUMBER", "NOT_MT", "PAUSE", "RESUME",
]


def _c(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


MAX_NUMBER = 50  # a larger CAPACITE / DEMANDE is a typo, not a wish

_NUMBER = r"(\d{1,3}|zero|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix)"

PAUSE = _c(r"\bpause\b")
RESUME = _c(
    r"\breprise\b", r"\breprend(?:re|s)? (?:les |des )?(?:propositions|patients)\b",
)
# kind -> pattern with the number as group 1 (digits anywhere; words only at line start).
COMMAND_NUMBER: dict[str, tuple[re.Pattern[str], ...]] = {
    "capacity": _c(r"\bcapacites? (?:de )?(\d{1,3})\b", r"(?m)^ capacites? " + _NUMBER + r"\b"),
    "request": _c(r"\bdemandes? (?:de )?(\d{1,3})\b", r"(?m)^ demandes? " + _NUMBER + r"\b"),
}
# A command word heading a line without a usable number.
COMMAND_LINE: dict[str, re.Pattern[str]] = {
    "capacity": re.compile(r"(?m)^ capacites?\b|\bcapacites? ?$"),
    "request": re.compile(r"(?m)^ demandes? ?$"),
}

# ---- proposals
ACCEPT_STRONG = _c(
    r"\bje (?:la |le |l')?(?:prends|accepte)\b(?! pas\b)",
    r"\bj'(?:la |le )?accepte\b(?! pas\b)",
    r"\bje l'accepte\b(?! pas\b)",
    r"\bj'accepte\b",
)
ACCEPT = (*ACCEPT_STRONG, *_c(
    r"\boui\b", r"\bok\b", r"\bd'accord\b", r"\bdaccord\b", r"\bvolontiers\b",
    r"(?<!n')(?<!pas )\baccepte(?:e|s)?\b", r"\bje veux bien\b", r"\bavec plaisir\b",
    r"\bpas de (?:souci|soucis|probleme)\b", r"\bsans (?:souci|probleme)\b", r"\bca marche\b",
    r"\bentendu\b", r"\bbien sur\b", r"\bvalide\b",
))
DECLINE_STRONG = _c(r"\bje decline\b", r"\bje refuse\b")
DECLINE = (*DECLINE_STRONG, *_c(
    r"\bnon\b", r"\bdeclin", r"\brefuse", r"\bpas possible\b", r"\bimpossible\b",
    r"\bcomplete?s?\b", r"\bne (?:peux|pourrai|pourrais|peut) pas\b",
    r"\b(?:ne )?(?:la |le |l')?prends? pas\b", r"\bne (?:la |le |l')?prendrai pas\b", r"\bpas de place\b", r"\bdeborde",
    r"\bne prends? plus\b", r"\bpas en mesure\b", r"\bpas pour moi\b", r"\bpas disponible\b",
))
DECLINE_WEAK = _c(r"\bdesolee?\b", r"\bmalheureusement\b")
ACCEPT_BLOCKERS = _c(
    r"\bmais\b", r"\bsi\b", r"\bpeut etre\b", r"\?", r"\bcondition\b", r"\bsauf\b",
    r"\bpas avant\b", r"\ba partir d", r"\bseulement\b", r"\brappel", r"\bappelez\b",
    r"\bassociee?\b", r"\bvoir avec\b", r"\bvoyez avec\b", r"\bje dois\b", r"\bje vais voir\b",
    r"\breflechi", r"\bponctuel", r"\bremplacant", r"\bsous reserve\b",
)
DECLINE_BLOCKERS = _c(
    r"\bpas encore\b", r"\bpeut etre\b", r"\brappel", r"\breflechi", r"\bje dois\b", r"\?", r"\bassociee?\b",
    r"\bvoir avec\b", r"\bvoyez avec\b",
)

# ---- follow-ups ("êtes-vous devenu le médecin traitant ?")
BECAME_STRONG = _c(
    r"\bdeclaration (?:mt |de medecin traitant |medecin traitant )?(?:faite|effectuee|realisee)\b",
    r"\bj'ai fait la declaration\b",
    r"\b(?:je suis|suis) (?:bien |desormais |maintenant |devenue? )?(?:son|sa|leur) medecin traitant\b",
    r"\bdevenue? (?:son|sa|leur) medecin traitant\b",
)
BECAME = (*BECAME_STRONG, *_c(r"\boui\b", r"\bc'est fait\b", r"^ fait\b", r"\bc'est ok\b"))
NOT_MT = _c(
    r"\bnon\b", r"\bpas encore\b", r"\bjamais (?:venue?|vue?)\b", r"\bpas (?:encore )?venue?\b",
    r"\bpas (?:pris|de) (?:de )?(?:rendez vous|rdv)\b", r"\bannule", r"\bpas presentee?\b",
    r"\bne s'est pas presentee?\b", r"\bpas de nouvelles?\b", r"\bpas pu (?:la |le |l')?prendre\b",
)
FOLLOWUP_BLOCKERS = _c(
    r"\bmais\b", r"\?", r"\bpeut etre\b", r"\bje (?:ne )?sais pas\b", r"\bje vous dis\b",
    r"\bje vous tiens\b", r"\bsi\b", r"\bje verifie\b",
)

# ---- decline reason: leading/trailing words that are not the reason (on the original text)
DECLINE_LEAD = re.compile(
    r"^(?:non|nan|no|je\s+d[ée]cline|d[ée]clin[ée]e?|refus[ée]e?|pas\s+possible|impossible|"
    r"d[ée]sol[ée]e?|malheureusement|merci|bonjour|docteur)\b[\s,.;:!\-–—]*",
    re.IGNORECASE,
)
DECLINE_TAIL = re.compile(
    r"[\s,.;:!\-–—]*\b(?:d[ée]sol[ée]e?|merci|cordialement|bien\s+cordialement)[\s,.;:!]*$",
    re.IGNORECASE,
)
