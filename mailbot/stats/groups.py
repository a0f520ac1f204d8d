"""Pure classifiers behind the statistics: referrer type, age band, priority group, outcome.

Each function takes plain values and answers one key of a small fixed set, so
the same rule serves the SQL figures (grouped values are classified once per
distinct value) and the tests. Keys are stable (they are JSON keys, see
``docs/stats.md``); :data:`LABELS` gives their French wording.
"""

from __future__ import annotations

import re

from parsers.referral.labels import normalise

# ---------------------------------------------------------------- referrer type

REFERRER_TYPES: tuple[str, ...] = ("dac", "hopital", "cpam", "pharmacie", "infirmier", "autre")

# Tried in this order on the folded structure, then on the folded address; first hit wins.
_REFERRER_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Acronyms may carry a département number: "dac16", "cpam86", "ch17".
    ("dac", re.compile(r"\b(?:(?:dac|pta|maia)\d*|dispositif d appui\w*|"
                       r"plateforme territoriale d appui|appui a la coordination)\b")),
    ("cpam", re.compile(r"\b(?:(?:cpam|cgss|msa|elsm)\d*|assurance maladie|ameli|"
                        r"caisse primaire|caisse d assurance maladie|service medical)\b")),
    ("hopital", re.compile(r"\b(?:(?:ch|chu|chr|chi|chs|chg|chru|ght|gh)\d*|aphp|ap hp|hcl|aphm|"
                           r"hopital|hopitaux|hospitalier|hospitaliere|clinique|polyclinique|"
                           r"smr|ssr|centre hospitalier|urgences)\b")),
    ("pharmacie", re.compile(r"\b(?:pharmacie|pharmacien|pharmacienne|pharmaciens|officine|"
                             r"pharma)\b")),
    ("infirmier", re.compile(r"\b(?:infirmier|infirmiere|infirmiers|infirmieres|"
                             r"(?:idel|ide|ipa|ssiad)\d*|cabinet infirmier|soins infirmiers|"
                             r"asalee)\b")),
)


def referrer_type(email: str | None, structure: str | None) -> str:
    """The kind of partner who referred the patient: one of :data:`REFERRER_TYPES`.

    The structure written on the form decides first ("DAC 16", "CH d'Angoulême",
    "Pharmacie du Centre", "Cabinet infirmier"), then the sender's address
    (``…@ch-exemple.mssante.fr``, ``…@pharmacien.mssante.fr``, ``…@infirmier.mssante.fr``).
    """
    for text in (structure, email):
        if not text:
            continue
        folded = normalise(text)
        for kind, pattern in _REFERRER_RULES:
            if pattern.search(folded):
                return kind
    return "autre"


# ---------------------------------------------------------------- ages and priority groups

# Priority groups of the ``criteria`` policy (DESIGN.md, Matching), in the order they are
# tried: an entry belongs to the first group it matches. ``urgent`` is the referrer's flag (a
# coordinator's priority is counted apart, as the matching's fairness report does).
PRIORITY_GROUPS: tuple[str, ...] = ("under_6", "over_70", "ald", "css_ame", "urgent", "other")
CHILD_MAX_AGE = 5    # "enfants de moins de 6 ans": 0 to 5 full years
ELDER_MIN_AGE = 71   # "plus de 70 ans": 71 full years and more

AGE_BANDS: tuple[str, ...] = ("under_6", "6_17", "18_39", "40_59", "60_70", "over_70", "unknown")
# Lower bound (full years) of each band but the first and ``unknown``.
AGE_BAND_STARTS: tuple[tuple[str, int], ...] = (
    ("6_17", 6), ("18_39", 18), ("40_59", 40), ("60_70", 60), ("over_70", ELDER_MIN_AGE),
)


def age_band(age: int | None) -> str:
    """The age band of an age in full years (``None`` → ``unknown``)."""
    if age is None:
        return "unknown"
    band = "under_6"
    for name, start in AGE_BAND_STARTS:
        if age >= start:
            band = name
    return band


# Criteria of an entry packed in one integer (the statistics queries group by it).
ALD, CSS, AME, COMPLEXE, MOBILITE, URGENT, PRIORITY = (1 << i for i in range(7))


def group_of(band: str, flags: int) -> str:
    """The priority group from an age band and criteria bits (same rule as :func:`priority_group`)."""
    if band in ("under_6", "over_70"):
        return band
    if flags & ALD:
        return "ald"
    if flags & (CSS | AME):
        return "css_ame"
    if flags & URGENT:
        return "urgent"
    return "other"


def is_fragile(band: str, flags: int) -> bool:
    """ALD, CSS/AME, complex situation, or over 70: the fragile patients of the ACI indicator."""
    return band == "over_70" or bool(flags & (ALD | CSS | AME | COMPLEXE))


def priority_group(age: int | None, *, ald: bool, css: bool, ame: bool, urgent: bool) -> str:
    """The priority group of an entry: one of :data:`PRIORITY_GROUPS`."""
    if age is not None and age <= CHILD_MAX_AGE:
        return "under_6"
    if age is not None and age >= ELDER_MIN_AGE:
        return "over_70"
    if ald:
        return "ald"
    if css or ame:
        return "css_ame"
    if urgent:
        return "urgent"
    return "other"


# ---------------------------------------------------------------- outcomes

WAYS: tuple[str, ...] = ("matched_by_gp", "found_alone", "other_resolved", "closed")
CLOSED_REASONS: tuple[str, ...] = (
    "deceased", "moved_away", "withdrawn", "duplicate", "unreachable", "other",
)

# "a trouvé un médecin" is what the recontact and call-list workflows write when the patient
# found one himself (store.recontact.FOUND_REASON); a CPTS GP's follow-up writes "devenu
# médecin traitant (médecin de la CPTS…)".
_ALONE = re.compile(r"\b(?:seule?s?|lui meme|elle meme|par ses propres moyens|alone|himself|"
                    r"herself|on (?:his|her|their) own|recontact\w*|de son cote|autonome\w*|"
                    r"sans (?:l aide de )?la cpts|hors cpts|a trouve|found)\b")
_MATCHED = re.compile(r"\b(?:devenu|devenue|mt|medecin|docteur|dr|generaliste|gp|match\w*|"
                      r"attribue\w*|proposition|accepte\w*|cpts|rattache\w*|installe\w*)\b")
_CLOSED_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("deceased", re.compile(r"\b(?:deced\w*|dcd|mort\w*|deceased|death)\b")),
    ("moved_away", re.compile(r"\b(?:demenag\w*|parti\w*|hors territoire|moved|move|"
                              r"a quitte|quitte la region|nouvelle adresse)\b")),
    ("duplicate", re.compile(r"\b(?:doublon\w*|duplicate|deja inscrit\w*)\b")),
    ("unreachable", re.compile(r"\b(?:injoignable\w*|unreachable|sans reponse|ne repond\w*|"
                               r"npai|pas de reponse)\b")),
    ("withdrawn", re.compile(r"\b(?:retir\w*|retrait\w*|withdraw\w*|annul\w*|refus\w*|renonc\w*|"
                             r"ne souhaite plus|desist\w*|abandon\w*|demande du patient|"
                             r"plus besoin)\b")),
)


def closed_reason_kind(reason: str | None) -> str:
    """The kind of a closing reason as written by a coordinator: one of :data:`CLOSED_REASONS`."""
    if reason in CLOSED_REASONS:  # the codes coordinators' commands store (mailbot.operations)
        return reason
    folded = normalise(reason or "")
    for kind, pattern in _CLOSED_RULES:
        if pattern.search(folded):
            return kind
    return "other"


def resolution_way(resolution: str | None) -> str:
    """How a *resolved* entry found a doctor: ``matched_by_gp``, ``found_alone`` or ``other_resolved``.

    The resolution reason is written by the workflow that resolved the entry
    (GP follow-up "devenu MT", patient's NON to the recontact mail…) or by a
    coordinator; a reason saying the patient found one alone wins over the
    mere mention of a doctor ("a trouvé un médecin seul").
    """
    folded = normalise(resolution or "")
    if _ALONE.search(folded):
        return "found_alone"
    if _MATCHED.search(folded):
        return "matched_by_gp"
    return "other_resolved"


# ---------------------------------------------------------------- French wording

LABELS: dict[str, str] = {
    # referrer types
    "dac": "DAC", "hopital": "Hôpital / CH", "cpam": "CPAM / Assurance maladie",
    "pharmacie": "Pharmacie", "infirmier": "Infirmier", "autre": "Autre",
    # age bands and priority groups
    "under_6": "Moins de 6 ans", "6_17": "6 à 17 ans", "18_39": "18 à 39 ans",
    "40_59": "40 à 59 ans", "60_70": "60 à 70 ans", "over_70": "Plus de 70 ans",
    "unknown": "Inconnu", "ald": "ALD", "css_ame": "CSS / AME", "urgent": "Urgent",
    "other": "Autres",
    # criteria
    "situation_complexe": "Situation complexe", "mobilite_reduite": "Mobilité réduite",
    "priorite": "Prioritaire (coordination)",
    "fragile": "Fragiles (au moins un critère)",
    # ways and closing reasons
    "matched_by_gp": "Médecin de la CPTS", "found_alone": "Trouvé seul",
    "other_resolved": "Autre résolution", "closed": "Clôturé",
    "deceased": "Décédé", "moved_away": "Déménagé", "withdrawn": "Retrait / refus",
    "duplicate": "Doublon", "unreachable": "Injoignable",
    # statuses
    "received": "Reçu", "incomplete": "Incomplet", "waiting": "En attente",
    "proposed": "Proposé", "matched": "Accepté par un médecin", "resolved": "Résolu",
}


def label(key: str) -> str:
    """The French label of a statistics key (the key itself when unknown)."""
    return LABELS.get(key, key)
