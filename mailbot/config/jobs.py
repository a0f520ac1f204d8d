"""``[jobs]``: when scheduled jobs run."""

from __future__ import annotations

from pydantic import Field

from mailbot.config.base import Section


class JobsConfig(Section):
    """When scheduled jobs run: ``schedules = { name = "cron" }``, or ``"off"``.

    Cron expressions have five fields (minute hour day month weekday), in the
    ``timezone`` given. Jobs not listed run on their default schedule
    (``mailbot jobs list`` shows them).
    """

    schedules: dict[str, str] = Field(default_factory=dict)
    timezone: str = "Europe/Paris"
