"""Pattern tables for GPs' answers: proposals, "devenu MT" follow-ups and mail commands.

All patterns apply to text normalised by :func:`parsers.reply_text.normalize`
(lower case, no accents, one line per input line, words between single spaces).
"""

from __future__ import annotations

import re

__all__ = [
    "ACCEPT",
    "ACCEPT_BLOCKERS",
    "ACCEPT_STRONG",
    "ACKNOWLEDGEMENTS",
    "BECAME",
    "BECAME_STRONG",
    "COMMAND_LINE",
    "COMMAND_NUMBER",
    "CONTRADICTIONS",
    "DECLINE",
    "DECLINE_BLOCKERS",
    "DECLINE_LEAD",
    "DECLINE_STRONG",
    "DECLINE_TAIL",
    "DECLINE_WEAK",
    "DEFERRALS",
    "EMOTIONS",
    "FOLLOWUP_ESCALATIONS",
    "HEDGES",
    "MAX_NUMBER",
    "NOT_MT",
    "NOT_MT_STRONG",
    "PAUSE",
    "PENDING",
    "RESUME",
    "WEAK_ACCEPT",
]


def _c(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


_MONTH = (r"(?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|"
          r"decembre)\b")
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
    "capacity": re.compile(r"(?m)^ capacites?\b|(?<!ma )(?<!sa )(?<!de )\bcapacites? ?$"),
    "request": re.compile(r"(?m)^ demandes? ?$"),
}

# ---- both questions: what forbids any automatic decision (checked first)
HEDGES = _c(
    r"\bje crois\b", r"\bje pense\b", r"\bprobablement\b", r"\ba priori\b", r"\bnormalement\b",
    r"\bpeut etre\b", r"\bil me semble\b", r"\bje suppose\b", r"\bsans doute\b", r"\bpas sure?\b",
    r"\bje (?:ne )?(?:sais|sait) (?:pas|plus)\b", r"\bjsp\b", r"\bplutot\b", r"\ben principe\b",
    r"\bje verifie\b", r"\bje regarde\b", r"\bil faudrait\b", r"\bje vais voir\b",
)
DEFERRALS = _c(
    r"\bje (?:vous )?(?:rappelle|rappellerai|redis|redirai|repondrai|confirme|confirmerai)\b",
    r"\bje reviens vers vous\b", r"\bje reflechi", r"\blaissez moi\b", r"\brappelez\b",
    r"\bvoir avec\b", r"\bvoyez avec\b", r"\bassociee?s?\b",
    r"\b(?:demande|demander|parler) (?:a |avec )?(?:ma |la |mon )?secretaire\b",
    r"\b(?:ma|la) secretaire (?:gere|vous|s'en|qui)\b|\bc'est (?:ma |la )?secretaire\b",
    r"\bremplacante?\b", r"\bproposez\b", r"\bvacances\b", r"\bconges\b", r"\ba mon retour\b",
    r"\bdes que possible\b", r"\bsous les yeux\b",
)
CONTRADICTIONS = _c(
    r"\boui et non\b", r"\boui non\b", r"\bnon oui\b", r"\benfin (?:non|oui|peut|elle|il)\b",
    r"\bah non\b", r"\bpardon\b", r"\boui pour\b.{0,40}\bnon\b",
)
EMOTIONS = _c(r"\?", r"!{2,}", r"\bpf+\b", r"\bfranchement\b", r"\bencore (?:un|une|ce)\b",
              r"\bras le bol\b", r"\bdeja (?:dit|repondu)\b", r"\bcroule\b", r"\ba bout\b",
              r"\barrete[zr]?\b", r"\bla (?:troisieme|deuxieme|enieme) (?:fois|cette)\b")

# ---- proposals
ACCEPT = _c(
    r"\boui\b", r"\bok\b", r"(?<!pas )\bd'accord\b", r"(?<!pas )\bdaccord\b", r"\bd'ac\b", r"\bvolontiers\b",
    r"(?<!n')(?<!pas )\baccepte(?:e|s)?\b", r"\bje veux bien\b", r"\bavec plaisir\b",
    r"\b(?:pas de|aucun) (?:souci|soucis|probleme)\b", r"\bsans (?:souci|probleme)\b",
    r"\bca (?:marche|me va)\b", r"\bentendu\b", r"\bbien sur\b", r"\bparfait\b", r"(?<!')\baccord\b",
    r"\bje (?:la |le |l')?(?:prends|prend|prnds)\b(?! pas\b)", r"\bje (?:la |le |l')recevrai\b",
    r"\bje peux (?:la |le |l')?(?:prendre|m'en occuper|recevoir)\b", r"(?:^ |\. )je peux ?$",
    r"\bje m'en (?:charge|occupe)\b", r"\bje vais (?:la |le |l')(?:prendre|recevoir)\b", r"\bje suis (?:ok|d'accord|partant)\b",
    r"\bc'est (?:bon|ok) pour moi\b", r"\bbanco\b",
)
DECLINE = _c(
    r"\bnon\b", r"\bpas d'accord\b", r"\bdeclin", r"\brefuse", r"\bpas possible\b", r"\bimpossible\b",
    r"\bcomplete?s?\b", r"\bsaturee?s?\b", r"\bpleine?s?\b", r"\bau max", r"\bnegatif\b",
    r"\bne (?:peux|pourrai|pourrais|peut) (?:malheureusement )?pas\b",
    r"\b(?:ne )?(?:la |le |l')?prends? pas\b", r"\bne (?:la |le |l')?prendrai pas\b",
    r"\b(?:pas|plus) de (?:place|creneaux?|nouvell?e?s? (?:patients?|inscriptions?))\b",
    r"\bdeborde", r"\bne (?:prends?|fais|suis) (?:plus|que)\b", r"\bpas en mesure\b",
    r"\bpas pour moi\b", r"\bpas (?:disponible|cette fois)\b", r"\bje passe mon tour\b",
    r"\btrop loin\b", r"\btrop de (?:travail|boulot|patients)\b", r"\bcesse mon activite\b",
)
DECLINE_WEAK = _c(r"\bdesolee?\b", r"\bmalheureusement\b", r"\bdsl\b")
# A bare "ok" next to these acknowledges the mail rather than accepting the patient.
ACKNOWLEDGEMENTS = _c(r"\bnote\b", r"\b(?:bien )?recu\b", r"\bmerci\b")
WEAK_ACCEPT = re.compile(r"^(?:ok|d'accord|daccord|d'ac|entendu)$")

# Conditions on an acceptance ("oui mais pas avant janvier"): never an automatic accept.
ACCEPT_BLOCKERS = _c(
    r"\bmais\b", r"\bsi\b", r"\bsauf\b", r"\bquand\b", r"\bcondition\b", r"\bsous reserve\b", r"\bseulement\b",
    r"\bpas avant\b", r"\ba partir d", r"\bponctuel", r"\bune (?:fois|premiere fois)\b",
    r"\bon verra\b", r"\b(?:en|avant|apres|debut|fin|mi|des|d'ici|jusqu'en|courant) " + _MONTH,
    r"^ ?" + _MONTH + r" oui\b", r"\bmois prochain\b", r"\bdeja (?:ma|mon|notre) patiente?\b",
    r"\bteleconsult",
)
DECLINE_BLOCKERS = _c(r"\bpas encore\b", r"\bpas avant\b", r"\ba partir d", r"\bsauf\b", r"\bsi\b")

# ---- follow-ups ("êtes-vous devenu le médecin traitant ?")
BECAME = _c(
    r"\boui\b", r"\bc'est (?:fait|ok|bon|regle)\b", r"^ fait\b", r"\btout est en ordre\b",
    r"\baffirmatif\b", r"\bbien sur\b", r"\btout a fait\b",
    r"(?<!pas encore )(?<!encore )\bdeclaration (?:mt |de medecin traitant |medecin traitant )?"
    r"(?:faite|effectuee|realisee|transmise|enregistree)\b",
    r"\bla declaration (?:est|a ete) faite\b",
    r"\b(?:j'ai|on a|nous avons|avons) (?:fait|effectue|realise) (?:la|sa) declaration\b",
    r"\b(?:je suis|suis|je le suis)\b(?: (?:bien|desormais|maintenant|devenue?))* "
    r"(?:son|sa|leur) (?:medecin traitant|mt)\b|\bje le suis\b",
    r"\bdevenue? (?:son|sa|leur) (?:medecin traitant|mt)\b",
    r"(?<!pas )(?<!pas encore )\b(?:je l'ai|l'ai|et) declaree?\b", r"(?:^ |, )declaree? ?$",
    r"\best (?:maintenant |desormais )?ma patiente?\b", r"\bm'a declaree? comme\b",
    r"\b(?:mt|medecin traitant) declare\b",
)
NOT_MT = _c(
    r"\bnon\b", r"\bnegatif\b", r"\bjamais (?:venue?|vue?|appele|contacte|rappele|pris)\b",
    r"\bjamis\b", r"\bpas (?:venue?|vue?)\b", r"\bne s'est (?:jamais |pas )presentee?\b",
    r"\bne l'ai jamais vue?\b", r"\bn'(?:a|est) (?:jamais|pas) (?:pris|donne suite|appele|rappele|"
    r"contacte|venue?)\b", r"\bpas (?:donne suite|de nouvelles?)\b", r"\baucune nouvelles?\b",
    r"\blapin\b", r"\bnon honore", r"\bannule", r"\bautre medecin\b", r"\bconfrere\b",
    r"\bprefere", r"\brester (?:avec|chez) (?:son|sa) ancien", r"\bne veut pas que je\b", r"\bn'a pas voulu\b", r"\bne (?:le |la )?suivrai pas\b",
    r"\bne peux pas (?:la |le )?suivre\b", r"\bne s'est pas fait\b", r"\bpas pu (?:la |le |l')?prendre\b",
)
# Facts that make a "non" definite, even with an appointment date around.
NOT_MT_STRONG = _c(
    r"\bjamais\b", r"\bancien medecin\b", r"\bautre medecin\b", r"\bconfrere\b", r"\bprefere", r"\bne veut pas\b",
    r"\bn'a pas voulu\b", r"\bsuivrai pas\b", r"\bdonne suite\b", r"\bdemenage",
)
# Not yet: neither yes nor no; asked again later.
PENDING = _c(
    r"\bpas (?:encore|encor)\b", r"\bpour le moment\b", r"\bpour l'instant\b", r"\ben cours\b",
    r"(?<!pas )(?<!jamais )\bpris (?:un |son |le )?(?:rdv|rendez vous)\b",
    r"\bbientot\b", r"\ben attente d", r"\breporte", r"\bnouveau (?:rdv|rendez vous)\b",
    r"\b(?:rdv|rendez vous|consultation)s? (?:est |a ete )?(?:prevue?s?|pris|fixee?s?|programmee?s?)\b",
    r"\b(?:premier|prochaine?) (?:rdv|rendez vous|consultation|consult)\b",
    r"\b(?:a|ont) (?:un )?(?:rdv|rendez vous)\b", r"\b(?:rdv|rendez vous|consultation) (?:le|demain|la semaine)\b",
    r"\bje (?:la |le |l')(?:vois|verrai|revois|reverrai)\b", r"\bje dois (?:la |le |l')revoir\b",
    r"\b(?:elle|il) (?:vient|viendra|doit)\b", r"\bon attend\b", r"\bune fois\b",
    r"\bdeclaration (?:a faire|se fera)\b", r"\bje m'en occupe\b", r"\bon verra\b",
    r"\bje vous (?:tiens au courant|dirai|dis)\b", r"\bdoit (?:me )?(?:rappeler|rapporter)\b",
)
# Reasons for a coordinator to read the follow-up answer whatever it says.
FOLLOWUP_ESCALATIONS = _c(
    r"\bdecede", r"\bdeces\b", r"\bhospitalise", r"\bhopital\b", r"\bdemenage\w* (?:je|on)\b",
    r"\bje ne me souviens\b", r"\bquelle? patiente?\b", r"\bjamais accepte\b",
    r"\bpas moi qui\b", r"\bpour (?:la|le) (?:mere|pere|fille|fils|mari|femme)\b",
)

# ---- "any" context (no question asked): only explicit statements
ACCEPT_STRONG = _c(
    r"\bje (?:la |le |l')?(?:prends|accepte)\b(?! pas\b)",
    r"\bj'(?:la |le )?accepte\b(?! pas\b)",
    r"\bje l'accepte\b(?! pas\b)",
    r"\bj'accepte\b",
)
DECLINE_STRONG = _c(r"\bje decline\b", r"\bje refuse\b")
BECAME_STRONG = _c(
    r"\bdeclaration (?:mt |de medecin traitant |medecin traitant )?(?:faite|effectuee|realisee)\b",
    r"\bj'ai fait la declaration\b",
    r"\b(?:je suis|suis) (?:bien |desormais |maintenant |devenue? )?(?:son|sa|leur) medecin traitant\b",
    r"\bdevenue? (?:son|sa|leur) medecin traitant\b",
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
