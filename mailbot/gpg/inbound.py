"""Inbound PGP/MIME (RFC 3156): decrypt with the bot's key, verify the signature, bind it to the sender.

:func:`open_mail` returns the mail to process — the decrypted content under
the outer headers (From, Subject…) — and what was proven. A bad signature, an
unknown key, or a key not bound to the ``From:`` address is a *problem*: the
dispatcher escalates the mail and never acts on it.
"""

from __future__ import annotations

import email
import email.policy
import os
import tempfile
from dataclasses import dataclass
from email.message import Message

import gnupg

from mailbot.gpg.keyring import Keyring
from parsers import pgpmime


@dataclass(frozen=True)
class Opened:
    """A PGP/MIME mail opened: the message to read and what its cryptography says."""

    msg: Message
    encrypted: bool = False
    signed_by: str | None = None  # fingerprint of a good signature bound to the sender
    problem: str | None = None    # in French, for the digest: the mail is escalated
    kind: str | None = None       # gpg_undecryptable, gpg_bad_signature, gpg_key_not_bound…


def _parse(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _with_outer(outer_raw: bytes, inner: bytes) -> bytes:
    """The decrypted entity under the outer mail's headers."""
    return pgpmime.outer_headers(outer_raw) + pgpmime.canonical(inner)


def _verify(keyring: Keyring, content: bytes, signature: bytes) -> gnupg.Verify:
    """GnuPG's verdict on a detached signature over ``content``."""
    handle, path = tempfile.mkstemp(dir=keyring.home, suffix=".sig")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(signature)
        result = keyring.gpg.verify_data(path, content)
    finally:
        os.unlink(path)
    return result


_SIGNATURE_PROBLEMS = frozenset({"signature bad", "signature error", "signature expired",
                                 "no public key", "signing key has expired",
                                 "signing key was revoked"})


def _problems(result: gnupg.Verify) -> set[str]:
    return {str(p.get("status")) for p in getattr(result, "problems", None) or []}


def _signed(result: gnupg.Verify) -> bool:
    """True when GnuPG saw a signature (good, bad or of an unknown key)."""
    return bool(result.valid or result.signature_id or _problems(result) & _SIGNATURE_PROBLEMS)


def _judge(keyring: Keyring, opened: Opened, result: gnupg.Verify, sender: str | None) -> Opened:
    fingerprint = result.pubkey_fingerprint or result.fingerprint or None
    if not result.valid or fingerprint is None:
        if "no public key" in _problems(result):
            return Opened(opened.msg, opened.encrypted, problem="signature OpenPGP invérifiable "
                          "(clé de l'expéditeur inconnue du robot)", kind="gpg_unknown_key")
        return Opened(opened.msg, opened.encrypted, problem="signature OpenPGP invalide : message "
                      "modifié ou usurpé", kind="gpg_bad_signature")
    if not sender or sender.lower() not in keyring.addresses_of(fingerprint):
        return Opened(opened.msg, opened.encrypted, problem="signature OpenPGP valide, mais d'une "
                      "clé qui n'est pas celle de l'expéditeur", kind="gpg_key_not_bound")
    return Opened(opened.msg, opened.encrypted, signed_by=fingerprint)


def open_mail(keyring: Keyring, raw: bytes, msg: Message, sender: str | None) -> Opened:
    """Decrypt and verify ``msg`` (the parsed ``raw``) when it is PGP/MIME; else it as is."""
    if pgpmime.is_encrypted(msg):
        data = pgpmime.encrypted_data(msg)
        result = keyring.gpg.decrypt(data or b"", always_trust=True)
        if data is None or not result.ok:
            return Opened(msg, encrypted=True, problem="message chiffré que le robot ne peut pas "
                          "déchiffrer (clé du robot absente ou message abîmé)",
                          kind="gpg_undecryptable")
        inner = _with_outer(raw, result.data)
        opened = Opened(_parse(inner), encrypted=True)
        if _signed(result):  # signed and encrypted at once (RFC 3156 §6.2)
            return _judge(keyring, opened, result, sender)
        if pgpmime.is_signed(opened.msg):  # signed, then encrypted (RFC 3156 §6.1)
            return _open_signed(keyring, inner, opened, sender)
        return opened
    if pgpmime.is_signed(msg):
        return _open_signed(keyring, raw, Opened(msg), sender)
    return Opened(msg)


def _open_signed(keyring: Keyring, raw: bytes, opened: Opened, sender: str | None) -> Opened:
    boundary = opened.msg.get_boundary()
    parts = pgpmime.signed_parts(raw, boundary) if boundary else None
    if parts is None:
        return Opened(opened.msg, opened.encrypted, problem="signature OpenPGP illisible",
                      kind="gpg_bad_signature")
    content, signature = parts
    judged = _judge(keyring, opened, _verify(keyring, content, signature), sender)
    if judged.problem:
        return judged
    inner = pgpmime.outer_headers(raw) + content  # read the signed content itself
    return Opened(_parse(inner), opened.encrypted, signed_by=judged.signed_by)
