"""What every classification rule receives and returns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from typing import Protocol

from mailbot.senders import Role
from parsers.mime import decode_header_text
from store.models import InboundState

TOKEN_RE = re.compile(r"\[CPTS-([A-Z])-([0-9A-Z]{6,32})\]", re.IGNORECASE)


@dataclass(frozen=True)
class ClassifyContext:
    """Facts about one mail that the rules need besides its headers."""

    own_address: str
    own_domain: str
    sender: str | None
    role: Role
    size: int
    max_size: int


@dataclass(frozen=True)
class Verdict:
    """A rule's decision.

    ``state`` is the terminal state when the rule settles the mail by itself
    (ignored, quarantined); ``None`` hands it to the workflow named by ``kind``.
    """

    kind: str
    reason: str
    state: InboundState | None = None
    token_kind: str | None = None
    token: str | None = None


class Rule(Protocol):
    """A classification rule module."""

    NAME: str
    DESCRIPTION: str

    def check(self, msg: Message, ctx: ClassifyContext) -> Verdict | None:
        """Return a verdict, or ``None`` to let the next rule look."""


def header(msg: Message, name: str) -> str:
    """A header as decoded text ('' when absent or unreadable)."""
    try:
        value = msg.get(name)
    except Exception:  # malformed header: the email package may raise on access
        return ""
    if value is None:
        return ""
    text = str(value)
    return decode_header_text(text) if "=?" in text else text
