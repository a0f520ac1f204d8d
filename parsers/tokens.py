"""Correlation tokens and threading: how a reply names the mail of ours it answers.

Mails that expect an answer carry ``[CPTS-<kind>-<code>]`` in their subject and
a Message-ID in our domain; a reply quotes one or the other.
"""

from __future__ import annotations

import re
from email.message import Message

from parsers.mime import header

TOKEN_RE = re.compile(r"\[CPTS-([A-Z])-([0-9A-Z]{6,32})\]", re.IGNORECASE)
_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")


def referenced_ids(msg: Message, own_domain: str) -> list[str]:
    """Message-IDs of our own mails named in ``In-Reply-To`` and ``References``."""
    found = _MSGID.findall(header(msg, "In-Reply-To") + " " + header(msg, "References"))
    suffix = "@" + own_domain.lower() + ">"
    return [m for m in found if m.lower().endswith(suffix)]
