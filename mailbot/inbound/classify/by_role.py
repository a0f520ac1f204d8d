"""Whatever is left is read according to who sent it."""

from __future__ import annotations

from email.message import Message

from mailbot.config.senders import Role
from mailbot.inbound.classify.base import ClassifyContext
from mailbot.workflows.base import Verdict

NAME = "by_role"
DESCRIPTION = "Coordinator → command, GP → GP mail, partner → referral form"

_KIND = {
    Role.COORDINATOR: ("command", "message d'un coordinateur"),
    Role.GP: ("gp_mail", "message d'un médecin"),
    Role.PARTNER: ("referral", "message d'un partenaire"),
    Role.ALLOWED: ("referral", "message d'un expéditeur autorisé"),
}


def check(msg: Message, ctx: ClassifyContext) -> Verdict | None:
    """Route by the sender's role (unknown senders were quarantined before)."""
    kind, reason = _KIND.get(ctx.role, ("unknown", "message non reconnu"))
    return Verdict(kind, reason)
