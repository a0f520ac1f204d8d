"""Replies to one of our mails: a token in the subject, or threading headers."""

from __future__ import annotations

from email.message import Message

from mailbot.inbound.classify.base import ClassifyContext
from mailbot.workflows.base import Verdict
from parsers.mime import header
from parsers.tokens import TOKEN_RE, referenced_ids

NAME = "reply"
DESCRIPTION = "Answer to a mail of ours ([CPTS-x-code] token or In-Reply-To/References)"


def check(msg: Message, ctx: ClassifyContext) -> Verdict | None:
    """Recognise replies; the workflow checks the token against the database."""
    match = TOKEN_RE.search(header(msg, "Subject"))
    if match:
        return Verdict("reply", "réponse avec jeton", token_kind=match.group(1).upper(),
                       token=match.group(2).upper())
    if referenced_ids(msg, ctx.own_domain):
        return Verdict("reply", "réponse à un message du robot")
    return None
