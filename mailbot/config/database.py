"""``[database]``: where the waitlist lives."""

from __future__ import annotations

from pydantic import Field

from mailbot.config.base import Section


class DatabaseConfig(Section):
    """Where the waitlist lives: a SQLite file or a PostgreSQL URL."""

    url: str = "sqlite:///var/mailbot.db"
    schema_: str | None = Field(default=None, alias="schema")
    echo: bool = False
