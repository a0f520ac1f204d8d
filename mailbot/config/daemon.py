"""``[daemon]``: several processes sharing one PostgreSQL database."""

from __future__ import annotations

from pydantic import Field

from mailbot.config.base import Section


class DaemonConfig(Section):
    """How long a process's claims outlive it.

    ``lease_seconds``: a process (``mailbot run``) renews its heartbeat every third
    of it; once it has been silent that long it counts as dead, and another process
    takes over the mails it had claimed, and escalates as uncertain the sends it had
    started (``store.workers``). Shorter: faster takeover after a crash; it must stay
    well above one pass of 100 mails (well under a second) and a database hiccup.
    """

    lease_seconds: int = Field(default=60, ge=10, le=3600)
