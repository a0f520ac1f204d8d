"""The bot's GnuPG keyring: a folder with 0700 rights, the bot's key, correspondents' keys.

The folder is created 0700; an existing folder readable by others is refused
(:class:`~mailbot.errors.GpgError`). A correspondent's key is *bound* to an
address when one of its user IDs is that exact address.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import gnupg

from mailbot.config.gpg import GpgConfig
from mailbot.errors import GpgError
from parsers.addresses import address_of

LISTING_TTL = 30.0  # seconds


@dataclass(frozen=True)
class KeyInfo:
    """One key of the keyring, as ``mailbot keys list`` shows it."""

    fingerprint: str
    addresses: tuple[str, ...]
    expires: dt.datetime | None
    secret: bool
    can_encrypt: bool
    usable: bool  # not expired, not revoked


def ensure_private_dir(home: Path) -> None:
    """Create ``home`` with 0700 rights, or refuse an existing one that others may read."""
    if not home.exists():
        home.mkdir(mode=0o700, parents=True)
        os.chmod(home, 0o700)
        return
    if not home.is_dir():
        raise GpgError(f"{home} n'est pas un dossier : [gpg] home doit désigner le dossier du "
                       "trousseau")
    mode = stat.S_IMODE(home.stat().st_mode)
    if mode & 0o077:
        raise GpgError(f"le trousseau {home} est accessible à d'autres utilisateurs "
                       f"(droits {mode:o}) : corrigez avec « chmod 700 {home} »")


def _expiry(value: str) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(int(value), dt.UTC) if value and value.isdigit() else None


class Keyring:
    """The keyring in ``[gpg] home``, used for the bot's key and its correspondents'."""

    def __init__(self, config: GpgConfig, own_address: str) -> None:
        assert config.home is not None
        ensure_private_dir(config.home)
        self.config = config
        self.home = config.home
        self.own_address = own_address.lower()
        try:
            self.gpg = gnupg.GPG(gpgbinary=config.binary, gnupghome=str(config.home))
        except (OSError, ValueError) as error:
            raise GpgError(f"GnuPG introuvable ({config.binary}) : installez le paquet gnupg "
                           "ou corrigez [gpg] binary") from error
        self.gpg.encoding = "utf-8"
        self._listed: dict[bool, tuple[float, list[KeyInfo]]] = {}

    def forget(self) -> None:
        """Drop the cached key listing (after an import or a removal)."""
        self._listed.clear()

    def list_keys(self, *, secret: bool = False) -> list[KeyInfo]:
        """Every key (public, or with a secret part); cached :data:`LISTING_TTL` seconds, so
        that a recontact round does not run ``gpg --list-keys`` twice per mail, and a key
        imported by ``mailbot keys import`` reaches the running daemon within that time."""
        cached = self._listed.get(secret)
        if cached is not None and time.monotonic() - cached[0] < LISTING_TTL:
            return cached[1]
        listed = self._list(secret)
        self._listed[secret] = (time.monotonic(), listed)
        return listed

    def _list(self, secret: bool) -> list[KeyInfo]:
        secrets = {k["fingerprint"] for k in self.gpg.list_keys(secret=True)}
        now = dt.datetime.now(dt.UTC)
        found = []
        for key in self.gpg.list_keys(secret=secret):
            addresses = tuple(a for a in (address_of(uid) for uid in key.get("uids", [])) if a)
            expires = _expiry(key.get("expires", ""))
            caps = key.get("cap", "")
            found.append(KeyInfo(
                fingerprint=key["fingerprint"], addresses=addresses, expires=expires,
                secret=key["fingerprint"] in secrets, can_encrypt="E" in caps,
                usable=key.get("trust") not in ("r", "e") and (expires is None or expires > now)))
        return found

    def bot_key(self) -> KeyInfo | None:
        """The bot's own key: ``[gpg] key``, else the secret key bound to ``identity.address``."""
        for key in self.list_keys(secret=True):
            if self.config.key and key.fingerprint.endswith(self.config.key):
                return key
            if not self.config.key and self.own_address in key.addresses:
                return key
        return None

    def key_for(self, address: str) -> KeyInfo | None:
        """A usable encryption key bound to ``address``, or ``None``."""
        address = address.lower()
        for key in self.list_keys():
            if address in key.addresses and key.usable and key.can_encrypt:
                return key
        return None

    def addresses_of(self, fingerprint: str) -> tuple[str, ...]:
        """The addresses a key (given by its fingerprint) is bound to."""
        for key in self.list_keys():
            if key.fingerprint == fingerprint.upper():
                return key.addresses
        return ()

    def import_keys(self, data: bytes) -> list[str]:
        """Import armored or binary keys; the fingerprints imported."""
        result = self.gpg.import_keys(data)
        self.forget()
        fingerprints = sorted({f for f in (result.fingerprints or []) if f})
        if not fingerprints:
            raise GpgError("aucune clé OpenPGP lisible dans ce fichier (attendu : une clé "
                           "publique exportée avec « gpg --export --armor »)")
        return fingerprints

    def remove(self, which: str) -> list[str]:
        """Remove the public keys named by fingerprint or address (never the bot's own)."""
        which = which.strip()
        own = self.bot_key()
        chosen = [k for k in self.list_keys()
                  if k.fingerprint == which.replace(" ", "").upper() or which.lower() in k.addresses]
        if not chosen:
            raise GpgError(f"aucune clé pour « {which} » (mailbot keys list pour la liste)")
        if any(k.secret or (own and k.fingerprint == own.fingerprint) for k in chosen):
            raise GpgError("c'est la clé du robot : elle ne se retire pas ainsi")
        fingerprints = [k.fingerprint for k in chosen]
        result = self.gpg.delete_keys(fingerprints)
        self.forget()
        if str(result) != "ok":
            raise GpgError(f"GnuPG n'a pas retiré la clé ({result})")
        return fingerprints
