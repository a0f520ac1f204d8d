"""Real GnuPG for the tests: keys generated once per session (quick generation, no passphrase),
and the correspondents' side — sign, encrypt, decrypt, verify — done with the ``gpg`` command,
independently of the bot's python-gnupg code."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BOT = "liste-attente@cpts-exemple.mssante.fr"
COORD = "coordination@cpts-exemple.mssante.fr"
PARTNER = "coordination@dac16.mssante.fr"
PIRATE = "pirate@example.org"


def short_dir(prefix: str) -> Path:
    """A fresh folder with a short path (gpg-agent's socket path must stay under 108 bytes)."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def gpg(home: Path, *args: str, data: bytes | None = None, check: bool = True) -> bytes:
    """Run ``gpg`` in ``home``; its standard output."""
    proc = subprocess.run(["gpg", "--homedir", str(home), "--batch", "--yes", "--quiet",
                           "--pinentry-mode", "loopback", "--passphrase", "", *args],
                          input=data, capture_output=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"gpg {' '.join(args)}: {proc.stderr.decode(errors='replace')}")
    return proc.stdout


def kill_agent(home: Path) -> None:
    """Stop the gpg-agent of ``home`` (one per keyring folder)."""
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"],
                   capture_output=True, timeout=30)


def fingerprint(home: Path, address: str) -> str:
    """The primary key fingerprint bound to ``address`` in ``home``."""
    out = gpg(home, "--with-colons", "--list-keys", f"<{address}>").decode()
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))


@dataclass
class Pgp:
    """The correspondents' keyring (every secret key of the session, the bot's included)."""

    home: Path
    fingerprints: dict[str, str] = field(default_factory=dict)
    soon: Path | None = None  # a keyring whose bot key expires in 10 days

    def public(self, address: str) -> bytes:
        """The armored public key of ``address``."""
        return gpg(self.home, "--armor", "--export", self.fingerprints[address])

    def secret(self, address: str) -> bytes:
        """The armored secret key of ``address``."""
        return gpg(self.home, "--armor", "--export-secret-keys", self.fingerprints[address])

    def detach_sign(self, address: str, data: bytes) -> bytes:
        """An armored detached signature of ``data`` by ``address``'s key."""
        return gpg(self.home, "--armor", "--digest-algo", "SHA256", "--local-user",
                   self.fingerprints[address], "--detach-sign", data=data)

    def encrypt(self, data: bytes, to: str, *, sign_as: str | None = None) -> bytes:
        """``data`` encrypted (armored) for ``to``, signed at once by ``sign_as``."""
        signing = ["--sign", "--local-user", self.fingerprints[sign_as]] if sign_as else []
        return gpg(self.home, "--armor", "--trust-model", "always", "--recipient",
                   self.fingerprints[to], *signing, "--encrypt", data=data)

    def decrypt(self, data: bytes) -> bytes:
        """``data`` decrypted with whichever secret key of the session fits."""
        return gpg(self.home, "--decrypt", data=data)

    def verify(self, content: bytes, signature: bytes) -> str:
        """The fingerprint of the good signature ``signature`` over ``content`` (else fails)."""
        sig = self.home / "check.sig"
        sig.write_bytes(signature)
        proc = subprocess.run(["gpg", "--homedir", str(self.home), "--batch", "--status-fd", "1",
                               "--verify", str(sig), "-"], input=content, capture_output=True,
                              timeout=60)
        valid = [line.split()[-1] for line in proc.stdout.decode().splitlines()
                 if line.startswith("[GNUPG:] VALIDSIG")]
        assert proc.returncode == 0 and valid, proc.stderr.decode(errors="replace")
        return valid[0]


@pytest.fixture(scope="session")
def pgp() -> Iterator[Pgp]:
    """Keys for the bot, a coordinator, a partner and a pirate, generated once (ed25519/cv25519)."""
    home = short_dir("gpgs")
    state = Pgp(home)
    for address in (BOT, COORD, PARTNER, PIRATE):
        gpg(home, "--quick-gen-key", f"Test <{address}>", "future-default", "default", "2y")
        state.fingerprints[address] = fingerprint(home, address)
    soon = short_dir("gpgx")
    gpg(soon, "--quick-gen-key", f"Robot <{BOT}>", "future-default", "default", "10d")
    state.soon = soon
    yield state
    for folder in (home, soon):
        kill_agent(folder)
        shutil.rmtree(folder, ignore_errors=True)


def signed_mail(pgp: Pgp, sender: str, body: str, *, subject: str, message_id: str,
                signer: str | None = None, tamper: bool = False) -> bytes:
    """A PGP/MIME signed mail (RFC 3156) from ``sender``, signed by ``signer`` (default: sender)."""
    entity = ("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
              + body.replace("\n", "\r\n")).encode()
    signature = pgp.detach_sign(signer or sender, entity)
    if tamper:
        entity = entity.replace(b"retrait", b"deces").replace(b"AIDE", b"AIDE ")
    boundary = "sig-boundary-42"
    return (f"From: <{sender}>\r\nTo: {BOT}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n"
            "Date: Mon, 02 Nov 2026 09:14:00 +0100\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/signed; micalg=pgp-sha256;\r\n'
            f' protocol="application/pgp-signature"; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\n").encode() + entity + (
        f"\r\n--{boundary}\r\nContent-Type: application/pgp-signature\r\n\r\n").encode() + \
        signature + f"\r\n--{boundary}--\r\n".encode()


def encrypted_mail(pgp: Pgp, sender: str, entity: bytes, *, subject: str, message_id: str,
                   to: str = BOT, sign_as: str | None = None) -> bytes:
    """A PGP/MIME encrypted mail (RFC 3156) of the MIME ``entity``, for ``to``'s key."""
    armored = pgp.encrypt(entity, to, sign_as=sign_as)
    boundary = "enc-boundary-42"
    return (f"From: <{sender}>\r\nTo: {BOT}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n"
            "Date: Mon, 02 Nov 2026 09:14:00 +0100\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\r\n'
            f' boundary="{boundary}"\r\n\r\n--{boundary}\r\n'
            "Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n"
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n").encode() + \
        armored + f"\r\n--{boundary}--\r\n".encode()
