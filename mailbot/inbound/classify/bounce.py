"""Delivery status notifications (bounces): recorded, never answered.

The rule only recognises them; :mod:`mailbot.workflows.bounces` then reads
which of our recipients failed (the mail ends ``processed``) or leaves the
mail ``ignored`` when it is about nothing we sent.
"""

from __future__ import annotations

import re
from email.message import Message

from mailbot.inbound.classify.base import ClassifyContext
from mailbot.workflows.base import Verdict
from parsers.mime import header
from store.models import InboundState

NAME = "bounce"
DESCRIPTION = "Delivery status notification (DSN) or non-standard bounce"

_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
_SUBJECTS = re.compile(
    r"(undeliver(ed|able)|delivery status notification|mail delivery (failed|failure|system)|"
    r"returned mail|non remis|non distribuable|échec de (la )?(remise|distribution)|"
    r"echec de (la )?(remise|distribution)|message non délivré|delivery has failed)",
    re.IGNORECASE,
)


def is_bounce(msg: Message, sender: str | None) -> bool:
    """True for a DSN (multipart/report) or a mail that plainly is one."""
    if msg.get_content_type() == "multipart/report":
        report = msg.get_param("report-type")
        if isinstance(report, str) and report.lower() in ("delivery-status", "disposition-notification"):
            return True
    if sender and _DAEMONS.match(sender):
        return True
    return bool(header(msg, "Return-Path").strip() == "<>" and _SUBJECTS.search(header(msg, "Subject")))


def check(msg: Message, ctx: ClassifyContext) -> Verdict | None:
    """Recognise bounces; ``ignored`` unless the bounce workflow finds a failure of ours."""
    if is_bounce(msg, ctx.sender) or (
        ctx.sender is None and _SUBJECTS.search(header(msg, "Subject"))
    ):
        return Verdict("bounce", "avis de non-remise", InboundState.IGNORED)
    return None
