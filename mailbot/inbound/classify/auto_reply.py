"""Automatic replies (RFC 3834, vacation messages): recorded, never answered."""

from __future__ import annotations

import re
from email.message import Message

from mailbot.inbound.classify.base import ClassifyContext
from mailbot.workflows.base import Verdict
from parsers.mime import header
from store.models import InboundState

NAME = "auto_reply"
DESCRIPTION = "Auto-reply: Auto-Submitted, X-Autoreply, Precedence bulk, vacation subjects"

_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
_SUBJECT = re.compile(
    r"^\s*(?:(?:re|tr|fw|fwd|aw)\s*:\s*)*"
    r"(?:r[ée]ponse automatique|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|"
    r"out of (?:the )?office|absent(?:e)? du bureau|message d'absence|absence du bureau|"
    r"absence\s*:|je suis absente?\b|en cong[ée]s?\b|vacation\b|abwesenheit|auto:)",
    re.IGNORECASE,
)


def is_auto_reply(msg: Message) -> bool:
    """True when headers or subject say the mail was written by a machine."""
    auto = header(msg, "Auto-Submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return True
    if any(header(msg, name) for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply",
                                           "X-AutoReply-From", "X-Mail-Autoreply")):
        return True
    precedence = (header(msg, "Precedence") or header(msg, "X-Precedence")).strip().lower()
    if precedence in _PRECEDENCE:
        return True
    if header(msg, "X-MS-Exchange-Inbox-Rules-Loop") or header(msg, "List-Id"):
        return True
    return bool(_SUBJECT.search(header(msg, "Subject")))


def check(msg: Message, ctx: ClassifyContext) -> Verdict | None:
    """Ignore automatic replies."""
    if is_auto_reply(msg):
        return Verdict("auto_reply", "réponse automatique", InboundState.IGNORED)
    return None
