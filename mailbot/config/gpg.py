"""``[gpg]``: OpenPGP with GnuPG — the bot's keyring, signing, encryption, signed commands.

Without ``home`` GPG is off and the bot behaves as it always did.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator

from mailbot.config.base import Section


class GpgConfig(Section):
    """The keyring folder (0700) and what the bot does with it."""

    home: Path | None = None         # keyring folder; absent: no GPG at all
    key: str | None = None           # the bot's key (fingerprint); default: identity.address's
    binary: str = "gpg"
    sign_outbound: bool = True       # every mail sent is signed (PGP/MIME)
    encrypt_outbound: bool = True    # …and encrypted for recipients whose key is known
    require_signed_commands: bool = False  # coordinators' commands need a valid signature

    @field_validator("key")
    @classmethod
    def _fingerprint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = value.replace(" ", "").upper()
        if len(cleaned) < 16 or any(c not in "0123456789ABCDEF" for c in cleaned):
            raise ValueError("l'empreinte de la clé du robot (40 caractères hexadécimaux, "
                             "voir « mailbot keys list »)")
        return cleaned

    @property
    def enabled(self) -> bool:
        """True when a keyring folder is configured."""
        return self.home is not None
