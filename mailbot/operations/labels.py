"""The French words coordinators read for statuses, close reasons and mails."""

from __future__ import annotations

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
