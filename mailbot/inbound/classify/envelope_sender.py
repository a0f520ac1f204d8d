"""A ``From:`` whose domain is not the envelope sender's (``Return-Path``): quarantined.

The final MTA writes the envelope sender (SMTP ``MAIL FROM``) into ``Return-Path``.
A mail without that header was not delivered by an MTA (a file dropped in the
Maildir, an IMAP ``APPEND``): there is nothing to compare, the mail goes on
(DKIM, when the domain requires it, still applies). The null sender ``<>``
(delivery notices, RFC 3834 auto-replies) is not compared either.
"""

from __future__ import annotations

from email.message import Message

from mailbot.inbound.classify.base import ClassifyContext
from mailbot.workflows.base import Verdict
from parsers.addresses import address_of, domain_of
from parsers.mime import header
from store.models import InboundState

NAME = "envelope_sender"
DESCRIPTION = "From domain differs from the Return-Path (envelope sender) domain"


def check(msg: Message, ctx: ClassifyContext) -> Verdict | None:
    """Quarantine a mail whose ``From:`` domain is not its envelope sender's."""
    value = header(msg, "Return-Path").strip()
    if not value or value == "<>" or ctx.sender is None:
        return None
    envelope = domain_of(address_of(value))
    if envelope is None:
        return Verdict("sender_mismatch", "expéditeur d'enveloppe (Return-Path) illisible",
                       InboundState.QUARANTINED)
    if envelope != domain_of(ctx.sender):
        return Verdict("sender_mismatch",
                       f"le domaine de l'expéditeur (From) n'est pas celui de l'enveloppe "
                       f"(Return-Path : {envelope}) : expéditeur peut-être usurpé",
                       InboundState.QUARANTINED)
    return None
