"""Our own mail coming back (a forward, a misconfigured alias): never answer it."""

from __future__ import annotations

from email.message import Message

from mailbot.inbound.classify.base import ClassifyContext
from mailbot.outbound.compose import LOOP_HEADER
from mailbot.workflows.base import Verdict
from parsers.mime import header
from store.models import InboundState

NAME = "loop"
DESCRIPTION = "Mail sent by the bot itself"


def check(msg: Message, ctx: ClassifyContext) -> Verdict | None:
    """Ignore mail from our own address or carrying our loop header."""
    if ctx.sender == ctx.own_address or header(msg, LOOP_HEADER):
        return Verdict("own_mail", "message envoyé par le robot lui-même", InboundState.IGNORED)
    return None
