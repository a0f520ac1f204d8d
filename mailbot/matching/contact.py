"""What each side receives once a GP accepts: identities and contacts (mise en relation).

The GP's mail (MSSanté) carries the patient's identity, contact and the
referrer's contact; the patient's mail (personal address, no health data)
carries only the practice's name, address and phone.
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from mailbot.clock import fr_date
from mailbot.matching.describe import criteria_labels
from store.models import Entry
from store.models_matching import GP


def phone_display(number: str | None) -> str | None:
    """``+33545123456`` → ``05 45 12 34 56`` (as written when unreadable)."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, "FR")
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def practice_context(gp: GP) -> dict[str, Any]:
    """The practice as the patient needs it to book a first appointment."""
    return {"doctor": gp.display_name, "practice_name": gp.cabinet,
            "practice_address": gp.adresse, "practice_phone": phone_display(gp.telephone)}


def gp_identity_context(entry: Entry) -> dict[str, Any]:
    """The patient and the referrer, for the GP who accepted (health data: MSSanté only)."""
    patient = {
        "nom": entry.nom, "nom_usage": entry.nom_usage, "prenom": entry.prenom,
        "date_naissance": fr_date(entry.date_naissance) if entry.date_naissance else None,
        "sexe": {"F": "femme", "M": "homme"}.get(entry.sexe or ""), "ins": entry.ins,
        "telephone": phone_display(entry.telephone), "email": entry.email,
        "adresse": entry.adresse,
        "commune": " ".join(x for x in (entry.code_postal, entry.commune) if x) or None,
        "aidant": entry.aidant, "motif": entry.motif, "ancien_medecin": entry.ancien_medecin,
        "criteria": criteria_labels(entry),
    }
    referrer = {
        "nom": entry.referent_nom or entry.referrer_name, "structure": entry.referent_structure,
        "telephone": phone_display(entry.referent_telephone), "email": entry.referrer_email,
    }
    return {"patient": patient, "referrer": referrer}
