"""``[intake]``: the territory served, how long raw referrals are kept, when entries are anonymised."""

from __future__ import annotations

from pydantic import Field, field_validator

from mailbot.config.base import Section


class IntakeConfig(Section):
    """How referral forms are received."""

    postal_codes: list[str] = Field(default_factory=list)  # territory served; empty = no check
    postal_code_prefixes: list[str] = Field(default_factory=list)
    raw_retention_days: int = Field(default=30, ge=0)
    # RGPD: resolved and closed entries lose identity, contact and free text after this many months.
    anonymise_after_months: int = Field(default=24, ge=1, le=240)

    @field_validator("postal_codes")
    @classmethod
    def _cp(cls, values: list[str]) -> list[str]:
        for value in values:
            if not (len(value) == 5 and value.isdigit()):
                raise ValueError(f"codes postaux à 5 chiffres, « {value} » n'en est pas un")
        return values
