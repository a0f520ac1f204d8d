"""The contracts every transport implements.

Inbound transports hand raw messages to the pipeline and are told, *after* the
database commit, to set each message aside (Maildir: ``new/`` → ``cur/``; IMAP:
flag or MOVE to a folder). Outbound transports deliver one raw message to a
list of recipients and say, per recipient, what happened.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class FetchedMail:
    """One message as read from an inbound transport.

    ``key`` identifies the message within the transport (Maildir file name,
    ``UIDVALIDITY:UID`` for IMAP) and is stable across restarts.
    """

    key: str
    raw: bytes


@dataclass(frozen=True)
class OversizedMail(FetchedMail):
    """A message over the inbound ``max_size_mb``: ``raw`` is its header only, ``size`` the
    full size in bytes. The pipeline keeps the header, quarantines the message and alerts."""

    size: int = 0


@runtime_checkable
class InboundTransport(Protocol):
    """Reads mail that has not been set aside yet."""

    async def open(self) -> None:
        """Connect (IMAP) or check the folders (Maildir)."""

    async def close(self) -> None:
        """Release connections; safe to call twice."""

    async def fetch(self, limit: int | None = None,
                    skip: Collection[str] = ()) -> list[FetchedMail]:
        """Return pending messages (not yet set aside), oldest first, but those whose key is in
        ``skip`` (stored already, another process is processing them)."""

    async def set_aside(self, key: str, *, quarantine: bool = False) -> None:
        """Mark ``key`` as handled; ``quarantine`` puts it in the quarantine folder."""

    async def wait_for_mail(self, timeout: float) -> None:
        """Return when new mail may be there (IDLE) or after ``timeout`` seconds."""


@dataclass
class DeliveryReport:
    """What the server said for each recipient of one message.

    ``temporary`` and ``permanent`` map a recipient to the server's answer,
    kept apart as in Mailman's ``SomeRecipientsFailed``.
    """

    accepted: list[str] = field(default_factory=list)
    temporary: dict[str, str] = field(default_factory=dict)
    permanent: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when every recipient accepted the message."""
        return not self.temporary and not self.permanent


@runtime_checkable
class OutboundTransport(Protocol):
    """Delivers raw messages."""

    async def open(self) -> None:
        """Connect (SMTP) or check the folder (Maildir)."""

    async def close(self) -> None:
        """Release connections; safe to call twice."""

    async def send(self, sender: str, recipients: Sequence[str], raw: bytes) -> DeliveryReport:
        """Deliver ``raw``; raise :class:`~mailbot.errors.TransportError` on connection faults."""


async def set_aside_all(transport: InboundTransport, keys: Sequence[str], *,
                        quarantine: bool = False) -> None:
    """Set ``keys`` aside: in one go when the transport can (IMAP: one STORE and one MOVE
    for them all, not a round trip each), else one by one."""
    if not keys:
        return
    many = getattr(transport, "set_aside_many", None)
    if many is not None:
        await many(keys, quarantine=quarantine)
        return
    for key in keys:
        await transport.set_aside(key, quarantine=quarantine)


def buffers(transport: OutboundTransport) -> bool:
    """True when ``transport`` keeps what it accepts until :func:`flush` (Maildir): a mail
    it took is only delivered once flushed, and taking it again replaces the same file."""
    return getattr(transport, "flush", None) is not None


async def flush(transport: OutboundTransport) -> None:
    """Make what ``transport`` accepted durable, when it buffers (Maildir); else nothing."""
    durable = getattr(transport, "flush", None)
    if durable is not None:
        await durable()
