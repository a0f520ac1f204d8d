"""Statuses as people write them in their spreadsheet → entry status and reason.

"en attente", "attribué au Dr X", "a trouvé seul", "décédé", "déménagé",
"injoignable"… Closing reasons are stored as the codes a coordinator's
``CLOTURER`` command stores (``deceased``, ``moved_away``, ``unreachable``,
``duplicate``, ``withdrawn``); resolutions as words the statistics read
(:mod:`mailbot.stats.groups`): "devenu médecin traitant", "a trouvé un médecin seul".
"""

from __future__ import annotations

import re
from typing import NamedTuple

from parsers.referral.labels import normalise
from store.models import EntryStatus

MATCHED_REASON = "devenu médecin traitant (import)"
ALONE_REASON = "a trouvé un médecin seul (import)"


# The closing codes above, as the import report says them.
REASON_WORDS = {"deceased": "décès", "moved_away": "déménagement", "unreachable": "injoignable",
                "duplicate": "doublon", "withdrawn": "retrait"}


class Status(NamedTuple):
    """What a spreadsheet status means for the entry."""

    status: EntryStatus
    reason: str | None = None


# Tried in order on the folded text; the first match wins.
_RULES: tuple[tuple[re.Pattern[str], Status], ...] = (
    (re.compile(r"\b(?:decede\w*|dcd|deces|mort\w*)\b"), Status(EntryStatus.CLOSED, "deceased")),
    (re.compile(r"\b(?:demenage\w*|demenagement|hors (?:secteur|territoire|zone)|parti\w* "
                r"(?:de la region|du territoire|hors)|a quitte)\b"),
     Status(EntryStatus.CLOSED, "moved_away")),
    (re.compile(r"\b(?:injoignable\w*|npai|ne repond\w*|sans nouvelles?|jamais joint\w*|"
                r"pas de reponse)\b"), Status(EntryStatus.CLOSED, "unreachable")),
    (re.compile(r"\bdoublons?\b"), Status(EntryStatus.CLOSED, "duplicate")),
    (re.compile(r"\b(?:refus\w*|annul\w*|abandon\w*|ne souhaite plus|retir\w*|retrait|"
                r"desist\w*|plus besoin|ne veut plus|renonc\w*)\b"),
     Status(EntryStatus.CLOSED, "withdrawn")),
    (re.compile(r"\b(?:incomplet\w*|a completer|manque\w*|en attente (?:d informations|de "
                r"pieces|de complements?))\b"), Status(EntryStatus.INCOMPLETE)),
    (re.compile(r"\b(?:seule?s?|lui meme|elle meme|par ses propres moyens|de son cote|"
                r"autonome\w*|sans la cpts|hors cpts)\b"),
     Status(EntryStatus.RESOLVED, ALONE_REASON)),
    (re.compile(r"^(?:en )?attente\b|^inscrite?s?$|\b(?:a attribuer|en cours|a traiter|nouveau|nouvelle|"
                r"en recherche|a proposer|propose\w*|a rappeler|actif|active|"
                r"ouvert\w*|non attribue\w*|sans medecin|pas de medecin|waiting)\b"),
     Status(EntryStatus.WAITING)),
    (re.compile(r"^(?:resolu\w*|ok|fait|termine\w*|resolved)$"),
     Status(EntryStatus.RESOLVED, "résolu (import)")),
    (re.compile(r"\b(?:attribue\w*|inscrite? chez|oriente\w* vers|mt trouve|medecin trouve|trouve|pris en "
                r"charge|prise en charge|accepte\w*|rdv pris|declare\w*|devenu\w*|"
                r"rattache\w*|mt|medecin traitant|dr|docteur|matched)\b"),
     Status(EntryStatus.RESOLVED, MATCHED_REASON)),
    (re.compile(r"\b(?:clos|clot\w*|ferme\w*|sorti\w*|archive\w*|closed)\b"),
     Status(EntryStatus.CLOSED, "sorti de la liste (import)")),
)


def read_status(text: str | None) -> Status | None:
    """The status a spreadsheet cell means; ``None`` when it is empty or not understood.

    Use :func:`is_blank` to tell the two apart.
    """
    folded = normalise(text or "")
    if not folded:
        return None
    for pattern, status in _RULES:
        if pattern.search(folded):
            return status
    return None


def is_blank(text: str | None) -> bool:
    """True when the cell says nothing."""
    return not normalise(text or "")
