"""Unknown senders never create anything: their mail waits for a human."""

from __future__ import annotations

from email.message import Message

from mailbot.config.senders import Role
from mailbot.inbound.classify.base import ClassifyContext
from mailbot.workflows.base import Verdict
from store.models import InboundState

NAME = "unknown_sender"
DESCRIPTION = "Sender in no directory (partners, coordinators, GPs, allow-list)"


def check(msg: Message, ctx: ClassifyContext) -> Verdict | None:
    """Quarantine mail from senders the bot does not know."""
    if ctx.role is Role.UNKNOWN:
        why = "expéditeur inconnu" if ctx.sender else "expéditeur illisible"
        return Verdict("unknown_sender", why, InboundState.QUARANTINED)
    return None
