"""``[senders]``: who may write to the bot, and the role each address plays.

Entries are full addresses or bare domains; GPs are added from the database
while the daemon runs.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import Field, field_validator

from mailbot.config.base import Section


class SendersConfig(Section):
    """Who may write to the bot. Entries are full addresses or bare domains."""

    partners: list[str] = Field(default_factory=list)
    coordinators: list[str] = Field(default_factory=list)
    allow: list[str] = Field(default_factory=list)

    @field_validator("partners", "coordinators", "allow")
    @classmethod
    def _lower(cls, values: list[str]) -> list[str]:
        cleaned = []
        for value in values:
            value = value.strip().lower()
            if not value or value.startswith("@") or " " in value:
                raise ValueError("une adresse (nom@domaine) ou un domaine (domaine.fr)")
            cleaned.append(value)
        return cleaned


class Role(enum.StrEnum):
    """The part a sender plays for the bot."""

    COORDINATOR = "coordinator"
    PARTNER = "partner"
    GP = "gp"
    ALLOWED = "allowed"
    UNKNOWN = "unknown"


def _matches(address: str, patterns: Iterable[str]) -> bool:
    domain = address.rsplit("@", 1)[-1]
    for pattern in patterns:
        if "@" in pattern:
            if address == pattern:
                return True
        elif domain == pattern:
            return True
    return False


@dataclass
class SenderDirectory:
    """The configured partners and coordinators, plus the GPs' addresses."""

    partners: list[str] = field(default_factory=list)
    coordinators: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    gps: set[str] = field(default_factory=set)

    def role(self, address: str | None) -> Role:
        """The role of ``address``; coordinators win over partners, GPs over partners."""
        if not address:
            return Role.UNKNOWN
        address = address.lower()
        if _matches(address, self.coordinators):
            return Role.COORDINATOR
        if address in self.gps:
            return Role.GP
        if _matches(address, self.partners):
            return Role.PARTNER
        if _matches(address, self.allow):
            return Role.ALLOWED
        return Role.UNKNOWN

    @classmethod
    def from_config(cls, senders: SendersConfig) -> SenderDirectory:
        """The directory of the ``[senders]`` section."""
        return cls(partners=list(senders.partners), coordinators=list(senders.coordinators),
                   allow=list(senders.allow))
