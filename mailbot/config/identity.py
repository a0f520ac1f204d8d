"""``[identity]``: who the bot is."""

from __future__ import annotations

from pydantic import field_validator

from mailbot.config.base import Section


class IdentityConfig(Section):
    """Who the bot is: its mailbox and the CPTS name used in every mail."""

    address: str
    name: str
    nil: str | None = None  # X-MSS-NIL, the software's MSSanté registration number
    signature: str | None = None

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if "@" not in value or value.startswith("@") or value.endswith("@"):
            raise ValueError("une adresse de messagerie complète, ex. liste-attente@cpts.mssante.fr")
        return value.strip().lower()

    @property
    def domain(self) -> str:
        """The domain used for our Message-IDs."""
        return self.address.rsplit("@", 1)[1]
