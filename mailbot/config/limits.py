"""``[limits]``: safety limits against mail loops."""

from __future__ import annotations

from pydantic import Field

from mailbot.config.base import Section


class LimitsConfig(Section):
    """Safety limits against mail loops."""

    replies_per_sender_per_hour: int = Field(default=10, ge=1)
    replies_per_partner_per_hour: int = Field(default=200, ge=1)
