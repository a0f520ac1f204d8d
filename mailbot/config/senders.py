"""``[senders]``: who may write to the bot, and the role each address plays.

Entries are full addresses or bare domains; GPs are added from the database
while the daemon runs.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import Field, field_validator, model_validator

from mailbot.config.base import Section


class SendersConfig(Section):
    """Who may write to the bot. Entries are full addresses or bare domains."""

    partners: list[str] = Field(default_factory=list)
    coordinators: list[str] = Field(default_factory=list)
    allow: list[str] = Field(default_factory=list)
    # Partner domains whose mail must carry a valid DKIM signature of that domain.
    require_dkim: list[str] = Field(default_factory=list)
    # Forged, replayed or foreign tokens from one address within an hour before that
    # address is quarantined (its next mails too, until a coordinator lifts it).
    forged_tokens_per_hour: int = Field(default=3, ge=1)

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

    @field_validator("require_dkim")
    @classmethod
    def _domains(cls, values: list[str]) -> list[str]:
        cleaned = []
        for value in values:
            value = value.strip().lower()
            if not value or "@" in value or " " in value or "." not in value:
                raise ValueError("un nom de domaine (domaine.fr), sans @ ni espace")
            cleaned.append(value)
        return cleaned

    @model_validator(mode="after")
    def _dkim_domains_are_partners(self) -> SendersConfig:
        known = {p.rsplit("@", 1)[-1] for p in (*self.partners, *self.coordinators, *self.allow)}
        for domain in self.require_dkim:
            if domain not in known:
                raise ValueError(
                    f"le domaine « {domain} » de require_dkim n'apparaît dans aucune adresse "
                    "ni aucun domaine de partners, coordinators ou allow : ajoutez-le d'abord")
        return self

    def dkim_required(self, address: str | None) -> bool:
        """True when mail from ``address`` must carry a valid DKIM signature of its domain."""
        if not address or not self.require_dkim:
            return False
        domain = address.rsplit("@", 1)[-1].lower()
        return any(domain == d or domain.endswith("." + d) for d in self.require_dkim)


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
