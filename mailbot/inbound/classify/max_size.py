"""Oversized mail: kept, but quarantined for a human."""

from __future__ import annotations

from email.message import Message

from mailbot.inbound.classify.base import ClassifyContext
from mailbot.workflows.base import Verdict
from store.models import InboundState

NAME = "max_size"
DESCRIPTION = "Mail larger than the configured limit"


def check(msg: Message, ctx: ClassifyContext) -> Verdict | None:
    """Quarantine mail over ``max_size`` bytes."""
    if ctx.size > ctx.max_size:
        megabytes = ctx.size / 1_000_000
        return Verdict("too_big", f"message trop volumineux ({megabytes:.1f} Mo)",
                       InboundState.QUARANTINED)
    return None
