"""Which mailbox a configuration reads, as a name and as PostgreSQL advisory lock keys.

Several daemons on one PostgreSQL schema and one mailbox must agree on these
without talking to each other: the name is built from the configuration alone
(IMAP: host, user and folder; Maildir: its absolute path), and the keys from
the schema and that name, so tenants (schemas) never block each other.
"""

from __future__ import annotations

import hashlib

from mailbot.config import ImapInboundConfig, MaildirInboundConfig


def mailbox_name(config: MaildirInboundConfig | ImapInboundConfig) -> str:
    """The mailbox ``config`` reads (no secret: no password, no certificate)."""
    if isinstance(config, MaildirInboundConfig):
        return f"maildir:{config.path.expanduser().resolve()}"
    return f"imap:{config.user or ''}@{config.host.lower()}/{config.folder}"


def lock_key(role: str, schema: str | None, mailbox: str) -> int:
    """A signed 64-bit advisory lock key for ``role`` on ``mailbox`` in ``schema``."""
    digest = hashlib.blake2b(f"mailbot-{role}:{schema or ''}:{mailbox}".encode(),
                             digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
