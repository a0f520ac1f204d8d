"""Answers to our mails: find the token, check who answers, hand over to the right workflow."""

from __future__ import annotations

from collections.abc import Callable

from mailbot.config.senders import Role
from mailbot.workflows.base import Outcome, Work, escalate
from mailbot.workflows.completion import handle_completion
from mailbot.workflows.followup import handle_followup_reply
from mailbot.workflows.proposals import handle_proposal_reply
from mailbot.workflows.recontact import handle_recontact_reply
from parsers.tokens import referenced_ids
from store import blocked, tokens
from store.models import InboundState, Token

TokenHandler = Callable[[Work, Token], Outcome]

# One handler per token kind: C = complément de fiche, R = recontact (patients),
# P = proposition à un médecin, S = suivi « devenu médecin traitant ? ». Other
# workflows register theirs.
HANDLERS: dict[str, TokenHandler] = {"C": handle_completion, "R": handle_recontact_reply,
                                     "P": handle_proposal_reply, "S": handle_followup_reply}

# Token kinds sent to people in no directory (patients' personal addresses): for them the
# address the token is bound to is the only credential. Any other reply from an unknown
# sender — no token, a forged one, a token of another kind — is quarantined.
OPEN_KINDS: frozenset[str] = frozenset({"R"})


def _stranger() -> Outcome:
    return Outcome(InboundState.QUARANTINED, "expéditeur inconnu", "unknown_sender")


class _Forged(Exception):
    """A forged, replayed or foreign token: counted against the sender, never acted on."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.kind)
        self.outcome = outcome


def handle_reply(work: Work, fallback: Callable[[Work], Outcome]) -> Outcome:
    """Dispatch a reply on its token; without a token, read it as its sender's usual mail.

    A token forged, replayed from another address, or of another kind than the
    subject says never changes anything; it is escalated (or quarantined for a
    stranger) and counted: ``[senders] forged_tokens_per_hour`` of them from one
    address within an hour quarantine that address (:mod:`store.blocked`).
    """
    try:
        return _dispatch(work, fallback)
    except _Forged as forged:
        if work.sender:
            blocked.record_forged(work.session, work.sender, kind=forged.outcome.kind or "forged",
                                  now=work.now, inbound_id=work.row.id,
                                  limit=work.app.config.senders.forged_tokens_per_hour)
        return forged.outcome


def _dispatch(work: Work, fallback: Callable[[Work], Outcome]) -> Outcome:
    verdict = work.verdict
    token = tokens.find(work.session, verdict.token) if verdict.token else None
    stranger = work.role is Role.UNKNOWN
    if verdict.token and token is None:
        if stranger:
            raise _Forged(_stranger())
        raise _Forged(escalate("jeton inconnu dans l'objet", kind="reply_unknown_token"))
    if token is None:
        token = tokens.find_by_message_ids(
            work.session, referenced_ids(work.msg, work.app.config.identity.domain))
    if token is None:
        return _stranger() if stranger else fallback(work)
    if stranger and token.kind not in OPEN_KINDS:
        raise _Forged(_stranger())
    if verdict.token_kind and verdict.token_kind != token.kind:
        raise _Forged(escalate("jeton d'un autre type que l'objet", kind="reply_token_mismatch",
                               entry_id=token.entry_id))
    if work.sender != token.recipient:
        raise _Forged(escalate("réponse d'une autre adresse que celle du destinataire",
                               kind="reply_wrong_sender", entry_id=token.entry_id))
    if token.expires_at < work.now:
        return escalate("réponse à une demande expirée", kind="reply_expired",
                        entry_id=token.entry_id)
    handler = HANDLERS.get(token.kind)
    if handler is None:
        return escalate(f"réponse de type {token.kind} non prise en charge", kind="reply_unhandled",
                        entry_id=token.entry_id)
    return handler(work, token)
