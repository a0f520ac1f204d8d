"""``[coordination]``: escalation digests, mail commands, statistics and import."""

from __future__ import annotations

from pydantic import Field, field_validator

from mailbot.config.base import Section


class CoordinationConfig(Section):
    """Escalation digest, coordinator commands, statistics (issue 7)."""

    # --- statistics and import (issue 7, mailbot stats / mailbot import) ---
    # In reports meant to leave the CPTS (``stats --public``) counts from 1 to N-1 are masked.
    stats_mask_below: int = Field(default=5, ge=1)
    # Rows written per transaction by ``mailbot import`` (a crash loses at most one batch).
    import_batch_rows: int = Field(default=500, ge=1)

    # --- escalation digest, urgent alerts and commands by mail (issue 7) ---
    # Who receives digests and urgent alerts; empty: every full address of [senders] coordinators.
    recipients: list[str] = Field(default_factory=list)
    # Entries still incomplete this many days after registration are listed (0: never).
    incomplete_after_days: int = Field(default=7, ge=0)
    # Entries waiting for a doctor longer than this many days are listed (0: never).
    waiting_after_days: int = Field(default=180, ge=0)
    # Set-aside mails (escalated, quarantined) are recalled in one line for this many days
    # after the digest that showed them in full (0: shown once).
    reminder_days: int = Field(default=7, ge=0)
    # Items listed per section; the others are counted.
    max_items_per_section: int = Field(default=30, ge=1)
    # Attach the original mail of each new escalated item, up to this total per mail.
    attach_originals: bool = True
    max_attachments_mb: float = Field(default=10.0, ge=0)
    # Commands read in one coordinator mail, at most.
    max_commands_per_mail: int = Field(default=30, ge=1)

    @field_validator("recipients")
    @classmethod
    def _full_addresses(cls, values: list[str]) -> list[str]:
        cleaned = [value.strip().lower() for value in values]
        for value in cleaned:
            if value.count("@") != 1 or value.startswith("@") or value.endswith("@") or " " in value:
                raise ValueError(f"des adresses complètes (nom@domaine), « {value} » n'en est pas une")
        return cleaned
