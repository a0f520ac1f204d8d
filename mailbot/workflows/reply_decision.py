"""How a reply was read: the rule and evidence of each decision, kept and shown.

:func:`record` writes them on the inbound mail (``decision_rule``,
``decision_evidence``) and, when the reply concerns an entry, as a
``reply_read`` event of its history (shown by ``mailbot entries show``).
:func:`describe` says it in French for the CLI and the coordinators' digest.
"""

from __future__ import annotations

from mailbot.workflows.base import Work
from store import entries
from store.models import Entry
from store.models_matching import Proposal

__all__ = ["OUTCOME_LABELS", "RULE_LABELS", "describe", "record"]

_EVIDENCE = 200  # InboundMessage.decision_evidence

OUTCOME_LABELS: dict[str, str] = {
    "accept": "accepte", "decline": "décline", "became_mt": "devenu médecin traitant",
    "not_mt": "pas devenu médecin traitant", "pending": "pas encore (question reposée plus tard)",
    "yes": "cherche toujours", "no": "a trouvé un médecin", "stop": "ne plus lui écrire",
    "unclear": "à lire",
}

# Rule codes of parsers.replies / parsers.gp_replies → French.
RULE_LABELS: dict[str, str] = {
    "accept_word": "acceptation explicite", "decline_word": "refus explicite",
    "became_word": "réponse oui / déclaration faite", "not_mt_word": "réponse non",
    "not_yet": "pas encore / rendez-vous à venir", "command": "commande",
    "explicit_oui": "oui explicite", "still_no_doctor": "toujours sans médecin",
    "negated_still_no_doctor": "non, toujours sans médecin", "found_doctor": "médecin trouvé",
    "explicit_non": "non explicite", "stop_request": "demande à ne plus être contacté(e)",
    "hedged": "réponse hésitante", "deferred": "réponse remise à plus tard ou renvoyée à un tiers",
    "contradictory": "réponse contradictoire", "question_or_emotion": "question ou émotion",
    "emotion": "émotion, pas une réponse", "conditional_accept": "acceptation sous condition",
    "conditional_decline": "refus sous condition", "accept_and_decline": "oui et non à la fois",
    "no_answer": "pas de réponse reconnue", "to_read": "fait à signaler",
    "deceased": "décès signalé", "moved": "déménagement signalé",
    "institution": "entrée en établissement signalée", "wrong_person": "erreur de personne",
    "several_people": "réponse pour plusieurs personnes", "preference": "préférence à lire",
    "removal_request": "demande de retrait de la liste", "question": "question posée",
    "acknowledgement": "simple accusé de lecture", "qualified_found": "médecin trouvé, mais…",
    "ambiguous_non": "non ambigu", "non_with_unrecognised_text": "non suivi d'un texte à lire",
    "weak_no_only": "« c'est bon » sans non", "empty": "réponse vide",
    "command_unclear": "commande incomplète ou mêlée à une réponse",
    "no_explicit_statement": "pas de réponse explicite", "conditional": "réponse sous condition",
}


def describe(rule: str | None, evidence: str | None) -> str:
    """« règle : réponse hésitante — « je crois » » (empty when nothing was recorded)."""
    if not rule:
        return ""
    text = f"règle : {RULE_LABELS.get(rule, rule)}"
    return text + (f" — « {evidence} »" if evidence else "")


def record(work: Work, *, question: str, outcome: str, rule: str, evidence: str,
           entry: Entry | None = None, proposal: Proposal | None = None) -> None:
    """Keep how the reply to ``question`` (proposal, followup, recontact) was read."""
    evidence = " ".join(evidence.split())[:_EVIDENCE]
    work.row.decision_rule = rule[:60] or None
    work.row.decision_evidence = evidence or None
    if entry is not None:
        detail: dict[str, object] = {"question": question, "outcome": outcome, "rule": rule,
                                     "evidence": evidence}
        if proposal is not None:
            detail["proposal"] = proposal.id
        entries.add_event(work.session, entry, now=work.now, kind="reply_read", detail=detail,
                          inbound_id=work.row.id)
