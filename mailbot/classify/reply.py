"""Replies to one of our mails: a token in the subject, or threading headers."""

from __future__ import annotations

import re
from email.message import Message

from mailbot.classify.base import TOKEN_RE, ClassifyContext, Verdict, header

NAME = "reply"
DESCRIPTION = "Answer to a mail of ours ([CPTS-x-code] token or In-Reply-To/References)"

_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


def referenced_ids(msg: Message, own_domain: str) -> list[str]:
    """Message-IDs of our own mails named in ``In-Reply-To`` and ``References``."""
    found = _MSGID.findall(header(msg, "In-Reply-To") + " " + header(msg, "References"))
    suffix = "@" + own_domain.lower() + ">"
    return [m for m in found if m.lower().endswith(suffix)]


def check(msg: Message, ctx: ClassifyContext) -> Verdict | None:
    """Recognise replies; the workflow checks the token against the database."""
    match = TOKEN_RE.search(header(msg, "Subject"))
    if match:
        return Verdict("reply", "réponse avec jeton", token_kind=match.group(1).upper(),
                       token=match.group(2).upper())
    if referenced_ids(msg, ctx.own_domain):
        return Verdict("reply", "réponse à un message du robot")
    return None
