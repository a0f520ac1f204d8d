"""Build the transport objects a configuration names."""

from __future__ import annotations

from pathlib import Path

from mailbot.config import (
    ImapInboundConfig,
    MaildirInboundConfig,
    MaildirRouteConfig,
    SmtpRouteConfig,
)
from mailbot.transports.base import InboundTransport, OutboundTransport
from mailbot.transports.maildir import MaildirInbound, MaildirOutbound


def inbound_transport(config: MaildirInboundConfig | ImapInboundConfig,
                      state_dir: Path | None = None) -> InboundTransport:
    """The inbound transport for ``[inbound]``."""
    if isinstance(config, MaildirInboundConfig):
        return MaildirInbound(config.path, poll_seconds=config.poll_seconds,
                              max_size=int(config.max_size_mb * 1_000_000))
    from mailbot.transports.imap import ImapInbound

    state = config.state_file or ((state_dir / "imap-state.json") if state_dir else None)
    return ImapInbound(config, state)


def outbound_transport(config: MaildirRouteConfig | SmtpRouteConfig) -> OutboundTransport:
    """The outbound transport of one route."""
    if isinstance(config, MaildirRouteConfig):
        return MaildirOutbound(config.path)
    from mailbot.transports.smtp import SmtpOutbound

    return SmtpOutbound(config)
