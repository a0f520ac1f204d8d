"""The French words coordinators read for statuses, close reasons and mails."""

from __future__ import annotations

from parsers.referral.labels import normalise
from store.models import EntryStatus

STATUS_LABELS: dict[str, str] = {
    EntryStatus.RECEIVED: "reçue",
    EntryStatus.INCOMPLETE: "incomplète",
    EntryStatus.WAITING: "en attente d'un médecin",
    EntryStatus.PROPOSED: "proposée à un médecin",
    EntryStatus.MATCHED: "acceptée par un médecin (en attente de sa confirmation)",
    EntryStatus.RESOLVED: "résolue",
    EntryStatus.CLOSED: "clôturée",
}

# What is wrong with a field (``FieldProblem.code``), when it is not simply missing.
PROBLEM_LABELS: dict[str, str] = {
    "invalid": "illisible",
    "impossible": "impossible",
    "bad_key": "clé du NIR fausse",
    "refused": "refusé par le patient",
    "conflict": "valeurs contradictoires",
    "repeated": "rubrique répétée",
}

# Close reasons: code stored in ``entry.closed_reason`` → French label.
CLOSE_REASONS: dict[str, str] = {
    "withdrawn": "retrait de la demande",
    "moved_away": "déménagement",
    "deceased": "décès",
    "duplicate": "doublon",
    "unreachable": "patient injoignable",
}

# The first word of the motif, folded (no accents, lower case), by prefix (codes included).
REASON_PREFIXES: tuple[tuple[str, str], ...] = (
    ("retrait", "withdrawn"), ("retir", "withdrawn"), ("withdr", "withdrawn"),
    ("abandon", "withdrawn"), ("desist", "withdrawn"),
    ("demenag", "moved_away"), ("moved", "moved_away"),
    ("deced", "deceased"), ("deces", "deceased"), ("decea", "deceased"),
    ("doublon", "duplicate"), ("duplicat", "duplicate"),
    ("injoign", "unreachable"), ("unreach", "unreachable"),
)
ACCEPTED_REASONS = "retrait, déménagé, décédé, doublon ou injoignable"

# Alerts a new proposal settles: the entry is with a GP again.
PROPOSAL_ALERT_KINDS = ("proposal_declined", "proposal_expired", "followup_not_mt",
                        "followup_no_answer", "urgent_referral")

MAIL_KINDS: dict[str, str] = {
    "ack_registered": "accusé d'inscription",
    "ack_incomplete": "demande de compléments",
    "ack_completed": "confirmation de fiche complète",
    "ack_duplicate": "réponse « patient déjà inscrit »",
    "ack_refused": "refus d'inscription",
    "ack_batch": "accusé de réception d'un lot de fiches",
    "ack_attachment_problem": "réponse « pièce jointe illisible »",
}

MAIL_STATES: dict[str, str] = {
    "pending": "en attente d'envoi", "sent": "envoyé", "failed": "en échec",
    "refused": "refusé : voie non sécurisée",
}

# Short status words for tables and exports ("En attente").
STATUS_WORDS: dict[str, str] = {
    EntryStatus.RECEIVED: "Reçue",
    EntryStatus.INCOMPLETE: "Incomplète",
    EntryStatus.WAITING: "En attente",
    EntryStatus.PROPOSED: "Proposée",
    EntryStatus.MATCHED: "Acceptée",
    EntryStatus.RESOLVED: "Résolue",
    EntryStatus.CLOSED: "Clôturée",
}
_STATUS_SYNONYMS: dict[str, EntryStatus] = {
    "recu": EntryStatus.RECEIVED, "incomplet": EntryStatus.INCOMPLETE,
    "attente": EntryStatus.WAITING, "en attente d un medecin": EntryStatus.WAITING,
    "propose": EntryStatus.PROPOSED, "accepte": EntryStatus.MATCHED,
    "resolu": EntryStatus.RESOLVED, "cloture": EntryStatus.CLOSED, "clos": EntryStatus.CLOSED,
    "close": EntryStatus.CLOSED, "ferme": EntryStatus.CLOSED,
}


def status_from_text(text: str) -> EntryStatus | None:
    """``"en attente"``, ``"Clôturée"``, ``"waiting"`` → the status; ``None`` when unknown."""
    folded = normalise(text)
    for status in EntryStatus:
        if folded in (status.value, normalise(STATUS_WORDS[status]),
                      normalise(STATUS_LABELS[status])):
            return status
    if folded in _STATUS_SYNONYMS:
        return _STATUS_SYNONYMS[folded]
    singular = folded[:-1] if folded.endswith("s") else folded
    singular = singular[:-1] if singular.endswith("e") else singular
    return _STATUS_SYNONYMS.get(singular) or next(
        (s for s in EntryStatus if normalise(STATUS_WORDS[s]).rstrip("e") == singular), None)


def status_word(value: str) -> str:
    """The short French word of a stored status (``waiting`` → ``En attente``)."""
    return STATUS_WORDS.get(value, value)

# Where an inbound message ended, and what became of an outgoing one, as coordinators say it.
INBOUND_STATES: dict[str, str] = {
    "received": "reçu", "processed": "traité", "duplicate": "doublon", "ignored": "ignoré",
    "quarantined": "en quarantaine", "escalated": "transmis aux coordinateurs",
}
DELIVERY_WORDS: dict[str, str] = {
    "sent": "envoyé", "retry": "à réessayer", "failed": "en échec",
    "refused": "refusé (voie non sécurisée)", "pending": "en attente d'envoi",
}


def counts_text(counts: dict[str, int], words: dict[str, str]) -> str:
    """``{"processed": 2}`` → ``"2 traité(s)"``, in French words; ``"aucun"`` when empty."""
    return ", ".join(f"{n} {words.get(k, k)}" for k, n in sorted(counts.items()) if n) or "aucun"
