"""Hostile mails, shared by benchmarks/hostile.py and tests/test_security_hostile_input.py.

(No tests in this module.) Each builder returns the raw bytes of one mail
from a known partner, so that the mail goes as far as it can into the
pipeline before its terminal state is decided.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

SENDER = "coordination@dac16.mssante.fr"
TO = "liste-attente@cpts-exemple.mssante.fr"
FORM = ("Nom : MARTIN\nPrénom : Lucien\nDate de naissance : 02/05/1950\n"
        "Téléphone : 05 45 12 34 56\nCode postal : 16000\nCommune : Angoulême\n"
        "Consentement : oui\n")


def _head(message_id: str, extra: str = "", subject: str = "Fiche de saisine") -> str:
    return (f"From: {SENDER}\r\nTo: {TO}\r\nSubject: {subject}\r\n"
            f"Date: Mon, 16 Nov 2026 10:00:00 +0100\r\nMessage-ID: <{message_id}>\r\n"
            f"MIME-Version: 1.0\r\n{extra}")


def _letters(n: int) -> str:
    """``n`` written in letters (names lose their digits when folded)."""
    out = ""
    while True:
        n, digit = divmod(n, 26)
        out = chr(65 + digit) + out
        if n == 0:
            return out


def normal(n: int = 0) -> bytes:
    """A complete, ordinary referral (the baseline)."""
    return (_head(f"normal-{n}@dac16.mssante.fr", "Content-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: 8bit\r\n") + "\r\nBonjour,\n"
            + FORM.replace("MARTIN", "DUPONT" + _letters(n))).encode("utf-8")


def big_attachment(size: int = 50 * 1024 * 1024) -> bytes:
    """A referral with a ``size``-byte PDF attachment, base64 (about 67 MB on the wire)."""
    payload = base64.encodebytes(b"%PDF-1.4\n" + b"\x00\x01\x02\x03" * (size // 4)).decode("ascii")
    return _ascii_join(FORM, payload)


def _ascii_join(form: str, payload: str) -> bytes:
    head = _head("big@dac16.mssante.fr", 'Content-Type: multipart/mixed; boundary="b"\r\n')
    text = ("\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" + form)
    attachment = ("\r\n--b\r\nContent-Type: application/pdf; name=fiche.pdf\r\n"
                  "Content-Transfer-Encoding: base64\r\n"
                  "Content-Disposition: attachment; filename=fiche.pdf\r\n\r\n")
    return (head + text + attachment).encode("utf-8") + payload.encode("ascii") + b"--b--\r\n"


def nested(depth: int = 500) -> bytes:
    """multipart/mixed nested ``depth`` levels, the form in the innermost part."""
    lines = [_head("nested@dac16.mssante.fr", 'Content-Type: multipart/mixed; boundary="b0"\r\n'), "\r\n"]
    for level in range(1, depth):
        lines.append(f"--b{level - 1}\r\nContent-Type: multipart/mixed; boundary=\"b{level}\"\r\n\r\n")
    lines.append(f"--b{depth - 1}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{FORM}\r\n")
    for level in reversed(range(depth)):
        lines.append(f"--b{level}--\r\n")
    return "".join(lines).encode("utf-8")


def long_header(size: int = 2 * 1024 * 1024) -> bytes:
    """A 2 MB ``Subject`` on one line (and a 2 MB ``X-`` header)."""
    word = "Fiche " * (size // 6)
    return (_head("long-header@dac16.mssante.fr", f"X-Long: {'a' * size}\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\n", subject=word)
            + "\r\n" + FORM).encode("utf-8")


def unknown_charsets() -> bytes:
    """Charsets no codec knows, in the body, the subject and a part."""
    return (_head("charset@dac16.mssante.fr", 'Content-Type: multipart/mixed; boundary="b"\r\n',
                  subject="=?x-klingon-42?Q?Fiche_de_saisine?= =?utf-99?B?w6k=?=")
            + "\r\n--b\r\nContent-Type: text/plain; charset=x-klingon-42\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + FORM.replace("é", "=E9")
            + "\r\n--b\r\nContent-Type: text/html; charset=\"utf-99\"\r\n\r\n<p>Nom : MARTIN</p>\r\n"
            "--b--\r\n").encode("latin-1", errors="replace")


def many_lines(count: int = 10_000) -> bytes:
    """A form followed by ``count`` label lines (repeated and unknown fields)."""
    extra = "".join(f"Champ {i} : valeur {i}\nNom : MARTIN{i % 7}\n" for i in range(count // 2))
    return (_head("lines@dac16.mssante.fr", "Content-Type: text/plain; charset=utf-8\r\n")
            + "\r\n" + FORM + extra).encode("utf-8")


def empty() -> bytes:
    """A mail of 0 bytes."""
    return b""


def headers_only() -> bytes:
    """Headers and no body, not even the blank line."""
    return _head("headers-only@dac16.mssante.fr").encode("utf-8").rstrip(b"\r\n")


def nul_and_bad_utf8(*, known_sender: bool = False) -> bytes:
    """NUL bytes and invalid UTF-8 in every header, names included (``From`` spared if asked)."""
    bad = b"\x00\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\x00"
    sender = b"From: coordination@dac16.mssante.fr" + (b"" if known_sender else bad)
    headers = [sender, b"To: " + TO.encode() + bad,
               b"Subject: Fiche" + bad, b"Date: Mon, 16 Nov 2026" + bad,
               b"Message-ID: <nul" + (b"-known" if known_sender else b"") + bad
               + b"@dac16.mssante.fr>", b"MIME-Version: 1.0" + bad,
               b"Content-Type: text/plain; charset=utf-8" + bad,
               b"Content-Transfer-Encoding: 8bit" + bad, b"X-" + bad + b": " + bad,
               b"In-Reply-To: <" + bad + b"@cpts-exemple.mssante.fr>",
               b"References: <" + bad + b"@cpts-exemple.mssante.fr> <" + bad + b">"]
    return b"\r\n".join(headers) + b"\r\n\r\n" + FORM.encode("utf-8") + bad + b"\r\n"


CASES: dict[str, Callable[[], bytes]] = {
    "piece_jointe_50_mo": big_attachment, "mime_500_niveaux": nested,
    "entete_2_mo": long_header, "charsets_inconnus": unknown_charsets,
    "formulaire_10000_lignes": many_lines, "mail_vide": empty, "entetes_seuls": headers_only,
    "nul_et_utf8_invalide": nul_and_bad_utf8,
    "nul_expediteur_connu": lambda: nul_and_bad_utf8(known_sender=True),
}
