"""Outbound PGP/MIME (RFC 3156): every mail signed with the bot's key, encrypted when the
recipient's key is known — sign first, then encrypt (§6.1).

The outer headers (From, To, Subject, threading, loop header) stay readable;
the content becomes ``multipart/signed``, then ``multipart/encrypted``.
"""

from __future__ import annotations

import secrets

from mailbot.errors import EncryptionRequiredError, GpgError
from mailbot.gpg.keyring import Keyring
from parsers import pgpmime

# OpenPGP hash algorithm numbers (RFC 4880 §9.4) → micalg names.
_MICALG = {"2": "pgp-sha1", "8": "pgp-sha256", "9": "pgp-sha384", "10": "pgp-sha512",
           "11": "pgp-sha224"}


def _boundary() -> str:
    return "=_pgp_" + secrets.token_hex(12)


def sign_entity(keyring: Keyring, entity: bytes) -> bytes:
    """``entity`` wrapped in ``multipart/signed`` with the bot's detached signature."""
    own = keyring.bot_key()
    if own is None:
        raise GpgError("clé du robot introuvable dans le trousseau : mailbot doctor")
    result = keyring.gpg.sign(entity, keyid=own.fingerprint, detach=True, binary=False)
    signature = str(result).encode("ascii")
    if not signature.strip():
        raise GpgError(f"GnuPG n'a pas signé le message ({result.status})")
    micalg = _MICALG.get(str(result.hash_algo), "pgp-sha256")
    boundary = _boundary()
    return (f'Content-Type: multipart/signed; micalg="{micalg}";\r\n'
            f' protocol="application/pgp-signature"; boundary="{boundary}"\r\n\r\n'
            f"This is an OpenPGP/MIME signed message (RFC 3156).\r\n--{boundary}\r\n").encode() + \
        entity + (f"\r\n--{boundary}\r\n"
                  'Content-Type: application/pgp-signature; name="signature.asc"\r\n'
                  "Content-Description: OpenPGP digital signature\r\n"
                  'Content-Disposition: attachment; filename="signature.asc"\r\n\r\n').encode() + \
        pgpmime.canonical(signature) + f"\r\n--{boundary}--\r\n".encode()


def encrypt_entity(keyring: Keyring, entity: bytes, fingerprints: list[str]) -> bytes:
    """``entity`` encrypted for ``fingerprints``, as a ``multipart/encrypted`` entity."""
    result = keyring.gpg.encrypt(entity, fingerprints, always_trust=True, armor=True)
    if not result.ok:
        raise GpgError(f"GnuPG n'a pas chiffré le message ({result.status})")
    boundary = _boundary()
    return (f"Content-Type: multipart/encrypted;\r\n"
            f' protocol="application/pgp-encrypted"; boundary="{boundary}"\r\n\r\n'
            f"This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n--{boundary}\r\n"
            "Content-Type: application/pgp-encrypted\r\n"
            "Content-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n"
            f"--{boundary}\r\n"
            'Content-Type: application/octet-stream; name="encrypted.asc"\r\n'
            "Content-Description: OpenPGP encrypted message\r\n"
            'Content-Disposition: inline; filename="encrypted.asc"\r\n\r\n').encode() + \
        pgpmime.canonical(str(result).encode("ascii")) + f"\r\n--{boundary}--\r\n".encode()


def protect(keyring: Keyring | None, raw: bytes, recipient: str, *, sign: bool, encrypt: bool,
            require_encryption: bool) -> bytes:
    """``raw`` signed and/or encrypted for ``recipient``.

    Raises :class:`EncryptionRequiredError` when ``require_encryption`` and the
    recipient has no usable key (or GPG is off): nothing may go in plaintext.
    """
    key = keyring.key_for(recipient) if keyring is not None and (encrypt or require_encryption) \
        else None
    if require_encryption and key is None:
        raise EncryptionRequiredError("la voie de ce destinataire exige le chiffrement et aucune "
                                      "clé OpenPGP ne lui est connue")
    if keyring is None or not (sign or key):
        return raw
    entity = pgpmime.content_entity(raw)
    if sign:
        entity = sign_entity(keyring, entity)
    if key is not None:
        own = keyring.bot_key()
        entity = encrypt_entity(keyring, entity,
                                [key.fingerprint, *([own.fingerprint] if own else [])])
    return pgpmime.outer_headers(raw) + b"MIME-Version: 1.0\r\n" + entity
