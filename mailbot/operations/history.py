"""An entry's history as a coordinator reads it: French sentences, never internal keys.

``created fields=['css', 'nom']`` becomes « inscription créée (rubriques : CSS, Nom) ».
Values of fields are never shown: the history names what changed, not health data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mailbot.operations.labels import CLOSE_REASONS, STATUS_LABELS
from mailbot.workflows import reply_decision
from parsers.referral.types import FRENCH_LABELS
from store.calls import OUTCOME_LABELS, REASON_LABELS

EVENT_LABELS: dict[str, str] = {
    "created": "inscription créée",
    "merged": "fiche reçue pour le même patient, fusionnée",
    "completed": "fiche complétée",
    "imported": "importée depuis le tableur",
    "status": "changement d'état",
    "rank": "rang repris d'une date d'inscription plus ancienne",
    "comment": "commentaire",
    "priority": "rendue prioritaire",
    "confirmed": "le patient cherche toujours un médecin",
    "found_doctor": "le patient a trouvé un médecin",
    "call_list": "ajoutée à la liste d'appels",
    "call": "appel",
    "recontact": "message de recontact envoyé",
    "recontact_reminder": "relance de recontact envoyée",
    "recontact_unanswered": "recontact resté sans réponse",
    "recontact_opt_out": "ne souhaite plus recevoir de messages : recontact arrêté",
    "anonymised": "anonymisée au terme de la durée de conservation",
    "erased": "effacée à la demande de la personne (RGPD)",
    "conflicts": "valeurs contradictoires entre la pièce jointe et le message",
}
_QUESTIONS = {"proposal": "proposition", "followup": "suivi", "recontact": "recontact"}


def _labels(keys: Iterable[Any]) -> str:
    return ", ".join(dict.fromkeys(FRENCH_LABELS.get(str(k), str(k)) for k in keys))


def _status(value: Any) -> str:
    return STATUS_LABELS.get(str(value), str(value))


def _reason(value: Any) -> str:
    return CLOSE_REASONS.get(str(value), str(value))


def _reply_read(detail: Mapping[str, Any]) -> str:
    """A reply read: its question, outcome, and the rule and evidence that decided it."""
    question = _QUESTIONS.get(str(detail.get("question")), str(detail.get("question")))
    outcome = str(detail.get("outcome"))
    return (f"réponse lue ({question}) : {reply_decision.OUTCOME_LABELS.get(outcome, outcome)}"
            f" — {reply_decision.describe(detail.get('rule'), detail.get('evidence'))}")


def event_text(kind: str, detail: Mapping[str, Any]) -> str:
    """One history event in French."""
    if kind == "reply_read":
        return _reply_read(detail)
    text = EVENT_LABELS.get(kind, kind.replace("_", " "))
    parts: list[str] = []
    if kind == "status":
        text = f"{_status(detail.get('from'))} → {_status(detail.get('to'))}"
        if detail.get("reason"):
            parts.append(_reason(detail["reason"]))
    for key, word in (("fields", "rubriques"), ("changed", "rubriques modifiées"),
                      ("problems", "à compléter")):
        values = detail.get(key)
        if isinstance(values, list) and values:
            parts.append(f"{word} : {_labels(values)}")
        elif key == "changed" and isinstance(values, list):
            parts.append("rien de nouveau")
    if kind == "imported" and detail.get("row"):
        parts.append(f"feuille « {detail.get('sheet', '')} », ligne {detail['row']}")
    if kind == "call_list" and detail.get("reason"):
        parts.append(REASON_LABELS.get(str(detail["reason"]), str(detail["reason"])))
    if kind == "call" and detail.get("outcome"):
        parts.append(OUTCOME_LABELS.get(str(detail["outcome"]), str(detail["outcome"])))
    if kind in ("comment", "call") and detail.get("text"):
        parts.append(f"« {str(detail['text'])[:200]} »")
    if kind in ("confirmed", "found_doctor") and detail.get("by"):
        parts.append(f"par {detail['by']}")
    return text + (f" ({' ; '.join(parts)})" if parts else "")
