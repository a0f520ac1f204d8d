"""Who is writing: partners, coordinators, GPs, or a stranger."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.utils import getaddresses
from functools import lru_cache


class Role(enum.StrEnum):
    """The part a sender plays for the bot."""

    COORDINATOR = "coordinator"
    PARTNER = "partner"
    GP = "gp"
    ALLOWED = "allowed"
    UNKNOWN = "unknown"


@lru_cache(maxsize=4096)
def _addresses(header_value: str) -> tuple[tuple[str, str], ...]:
    """``getaddresses`` of one header value; a partner's ``From:`` comes back mail after mail."""
    return tuple(getaddresses([header_value]))


def address_of(header_value: str | None) -> str | None:
    """The bare lower-case address in a ``From:`` value, or ``None`` when unreadable."""
    if not header_value:
        return None
    for _name, addr in _addresses(header_value):
        addr = addr.strip().lower()
        if "@" in addr and not addr.startswith("@") and not addr.endswith("@"):
            return addr
    return None


def display_name_of(header_value: str | None) -> str | None:
    """The display name in a ``From:`` value, if any."""
    if not header_value:
        return None
    for name, _addr in _addresses(header_value):
        if name.strip():
            return name.strip()
    return None


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
