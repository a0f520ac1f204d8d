"""Unknown senders never create anything: their mail waits for a human."""

from __future__ import annotations

from email.message import Message

from mailbot.classify.base import ClassifyContext, Verdict
from mailbot.senders import Role
from store.models import InboundState

NAME = "unknown_sender"
DESCRIPTION = "Sender in no directory (partners, coordinators, GPs, allow-list)"


def check(msg: Message, ctx: ClassifyContext) -> Verdict | None:
    """Quarantine mail from senders the bot does not know."""
    if ctx.role is Role.UNKNOWN:
        why = "expéditeur inconnu" if ctx.sender else "expéditeur illisible"
        return Verdict("unknown_sender", why, InboundState.QUARANTINED)
    return None
