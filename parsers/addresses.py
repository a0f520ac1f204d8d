"""Mail addresses in header values: the bare address and the display name of a ``From:``."""

from __future__ import annotations

from email.utils import getaddresses
from functools import lru_cache


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


def domain_of(address: str | None) -> str | None:
    """The lower-case domain of a bare address, or ``None``."""
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip().lower().rstrip(".") or None


def aligned(domain: str, other: str) -> bool:
    """True when ``domain`` is ``other`` or one of its subdomains (DKIM ``d=`` alignment)."""
    domain, other = domain.lower().rstrip("."), other.lower().rstrip(".")
    return domain == other or domain.endswith("." + other)
