"""What a workflow receives (one mail in one transaction) and returns (its terminal state)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import Message
from functools import cached_property

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.config.senders import Role
from mailbot.outbound.mailer import Thread
from parsers.mime import body_text
from store.models import InboundMessage, InboundState


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


@dataclass
class Work:
    """One inbound mail being handled inside one database transaction."""

    app: App
    session: Session
    row: InboundMessage
    msg: Message  # compat32: ``get`` returns raw header strings
    verdict: Verdict
    sender: str | None
    sender_name: str | None
    role: Role
    now: dt.datetime
    signed_by: str | None = None  # OpenPGP: fingerprint of a good signature bound to the sender

    @cached_property
    def body(self) -> str:
        """The mail's best readable text (``parsers.mime.body_text``), decoded once."""
        return body_text(self.msg)

    @property
    def thread(self) -> Thread:
        """Threading headers for an answer to this mail."""
        refs = tuple(str(self.msg.get("References", "")).split())
        return Thread(message_id=self.row.message_id and f"<{self.row.message_id}>", references=refs)

    @property
    def actor(self) -> str:
        """Who acts, for the audit trail."""
        return f"mail:{self.row.id}"


@dataclass(frozen=True)
class Outcome:
    """The terminal state a workflow chose for the mail."""

    state: InboundState
    reason: str
    kind: str | None = None
    entry_id: int | None = None


def escalate(reason: str, *, kind: str | None = None, entry_id: int | None = None) -> Outcome:
    """A human must look at this mail (it will be in the coordinators' digest)."""
    return Outcome(InboundState.ESCALATED, reason, kind, entry_id)


def processed(reason: str, *, kind: str | None = None, entry_id: int | None = None) -> Outcome:
    """The bot handled the mail by itself."""
    return Outcome(InboundState.PROCESSED, reason, kind, entry_id)
