"""An address quarantined after forged tokens: its mails wait for a coordinator.

The address is set aside by :mod:`mailbot.workflows.forged_tokens` and lifted
with ``mailbot senders unblock ADRESSE`` (audited).
"""

from __future__ import annotations

from email.message import Message

from mailbot.inbound.classify.base import ClassifyContext
from mailbot.workflows.base import Verdict
from store.models import InboundState

NAME = "blocked_sender"
DESCRIPTION = "Sender address quarantined after repeated forged tokens"


def check(msg: Message, ctx: ClassifyContext) -> Verdict | None:
    """Quarantine every mail of a blocked address."""
    if ctx.blocked:
        return Verdict("sender_blocked", "adresse mise en quarantaine après des jetons falsifiés",
                       InboundState.QUARANTINED)
    return None
