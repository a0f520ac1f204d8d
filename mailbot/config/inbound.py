"""``[inbound]``: where mail comes from (Maildir or IMAP)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from mailbot.config.base import Section, TlsClient


class MaildirInboundConfig(Section):
    """Inbound mail from a local Maildir (``cur/ new/ tmp/``)."""

    transport: Literal["maildir"]
    path: Path
    max_size_mb: float = Field(default=25.0, gt=0)
    poll_seconds: float = Field(default=5.0, gt=0)
    # PostgreSQL: one process at a time reads the mailbox (the inbound leader); the others
    # try to take the role over this often, so a dead leader is replaced within this delay.
    leader_retry_seconds: float = Field(default=5.0, gt=0, le=600)


class ImapInboundConfig(TlsClient):
    """Inbound mail from an IMAP mailbox (MSSanté BAL applicative)."""

    transport: Literal["imap"]
    folder: str = "INBOX"
    processed_folder: str | None = "Traites"
    quarantine_folder: str | None = "Quarantaine"
    idle: bool = True
    poll_seconds: float = Field(default=60.0, gt=0)
    max_size_mb: float = Field(default=25.0, gt=0)
    state_file: Path | None = None
    # PostgreSQL: one process at a time reads the mailbox (the inbound leader); the others
    # try to take the role over this often, so a dead leader is replaced within this delay.
    leader_retry_seconds: float = Field(default=5.0, gt=0, le=600)


InboundConfig = Annotated[MaildirInboundConfig | ImapInboundConfig, Field(discriminator="transport")]
