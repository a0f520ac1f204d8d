"""What every classification rule receives (:class:`ClassifyContext`) and returns
(:class:`~mailbot.workflows.base.Verdict`, the contract with the workflows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from typing import Protocol

from mailbot.config.senders import Role
from mailbot.workflows.base import Verdict


@dataclass(frozen=True)
class ClassifyContext:
    """Facts about one mail that the rules need besides its headers."""

    own_address: str
    own_domain: str
    sender: str | None
    role: Role
    size: int
    max_size: int
    raw_of: Callable[[], bytes] = bytes  # loads the bytes as received (DKIM is computed over
    # them) only when a rule needs them: a pass has already parsed the mail and let them go
    dkim_required: bool = False  # the sender's domain is in [senders] require_dkim
    dns_txt: Callable[..., bytes | None] | None = None  # DKIM key look-up (None: the DNS)
    blocked: bool = False  # the sender's address is quarantined (forged tokens)

    @property
    def raw(self) -> bytes:
        """The mail's bytes as received (read from the store on first use)."""
        return self.raw_of()


class Rule(Protocol):
    """A classification rule module."""

    NAME: str
    DESCRIPTION: str

    def check(self, msg: Message, ctx: ClassifyContext) -> Verdict | None:
        """Return a verdict, or ``None`` to let the next rule look."""
