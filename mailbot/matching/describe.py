"""What a proposal mail may say about a patient: no name, no phone, no address.

Age band, commune, criteria, days waited and the kind of partner who
referred the patient — enough for a GP to decide in 30 seconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mailbot.clock import local_date
from mailbot.matching.criteria import age_on
from mailbot.stats.groups import label as stats_label
from mailbot.stats.groups import referrer_type
from store.models import Entry

_DECADES = ((18, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 79), (80, 89))


def age_band_label(age: int | None) -> str:
    """``"70-79 ans"``: an age band narrow enough to decide, wide enough not to identify."""
    if age is None:
        return "âge non précisé"
    if age < 1:
        return "moins d'un an"
    if age <= 5:
        return "1-5 ans"
    if age <= 17:
        return "6-17 ans"
    for low, high in _DECADES:
        if age <= high:
            return f"{low}-{high} ans"
    return "90 ans et plus"


# The entry's flags as a GP reads them, in the order a proposal lists them.
_CRITERIA_LABELS: tuple[tuple[str, str], ...] = (
    ("ald", "ALD"),
    ("css", "CSS"),
    ("ame", "AME"),
    ("situation_complexe", "situation complexe"),
    ("mobilite_reduite", "mobilité réduite (visites à domicile)"),
    ("urgent", "signalé urgent par le partenaire"),
)


def criteria_labels(entry: Entry) -> list[str]:
    """The entry's criteria as a GP reads them."""
    return [label for flag, label in _CRITERIA_LABELS if getattr(entry, flag)]


def referrer_label(entry: Entry) -> str:
    """The kind of partner who referred the patient (DAC, hôpital, pharmacie…), never a name."""
    kind = referrer_type(entry.referrer_email, entry.referent_structure)
    return "autre partenaire" if kind == "autre" else stats_label(kind)


def waiting_label(received_at: dt.datetime, now: dt.datetime) -> str:
    """``"45 jours"`` (calendar days since registration)."""
    days = max(0, (local_date(now) - local_date(received_at)).days)
    return "1 jour" if days == 1 else f"{days} jours"


def proposal_context(entry: Entry, now: dt.datetime) -> dict[str, Any]:
    """Template variables of a proposal mail (pseudonymised)."""
    return {
        "age_band": age_band_label(age_on(entry.date_naissance, local_date(now))),
        "commune": " ".join(x for x in (entry.code_postal, entry.commune) if x) or "non précisée",
        "code_postal": entry.code_postal or "",  # the subject stays ASCII: cheap to encode
        "criteria": criteria_labels(entry),
        "waiting": waiting_label(entry.received_at, now),
        "referrer_type": referrer_label(entry),
    }
