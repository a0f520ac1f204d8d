"""Outgoing mails: headers encoded and folded by hand must read back exactly."""

from __future__ import annotations

import datetime as dt
import email
import email.header
import email.policy

import pytest

from mailbot.config import IdentityConfig
from mailbot.outbound.compose import as_bytes, build_mail, encode_header_value
from mailbot.outbound.templating import RenderedMail

IDENTITY = IdentityConfig(address="liste-attente@cpts-exemple.mssante.fr", name="CPTS Exemple")
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)

SUBJECTS = [
    "Fiche reçue",
    "Accusé de réception — DURAND Marie-Hélène — fiche incomplète : merci de compléter 😀",
    "é" * 120,
    "A" * 120,  # ASCII without a space: cannot be folded at a space
    "  espaces   multiples  ",
    "",
]


def _build(subject: str, **extra: object) -> bytes:
    rendered = RenderedMail(subject=subject, text="Bonjour,\nvotre fiche est reçue.\n", html=None)
    msg = build_mail(identity=IDENTITY, to=["dac@dac-exemple.mssante.fr"], rendered=rendered,
                     message_id="<abc@cpts-exemple.mssante.fr>", now=NOW, **extra)  # type: ignore[arg-type]
    return as_bytes(msg)


@pytest.mark.parametrize("subject", SUBJECTS)
def test_subject_reads_back_and_lines_stay_short(subject: str) -> None:
    raw = _build(subject)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\n" not in head.replace(b"\r\n", b"")  # CRLF only
    for line in head.split(b"\r\n"):
        assert line.isascii()
        if b"=?utf-8?" in line:
            assert len(line) <= 76  # RFC 2047: lines holding encoded-words
        assert len(line) <= 998
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == " ".join(subject.split()) or parsed["Subject"] == subject


def test_long_references_are_folded_at_spaces() -> None:
    refs = [f"<message-{i:03d}-{'x' * 30}@hopital-exemple.mssante.fr>" for i in range(10)]
    raw = _build("Réponse", in_reply_to=refs[-1], references=refs[:-1])
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert parsed["References"].split() == refs
    for line in head.split("\r\n"):  # over 78 only for one unbreakable word
        assert len(line) <= 78 or len(line.split(": ", 1)[-1].strip().split(" ")) == 1, line


def test_encoded_words_never_split_a_character() -> None:
    value = "ééé😀" * 30
    words = encode_header_value(value).split(" ")
    assert len(words) > 1
    decoded = "".join(
        part.decode("utf-8") for word in words
        for part, _ in email.header.decode_header(word)  # type: ignore[misc]
    )
    assert decoded == value
    assert encode_header_value("ASCII seul") == "ASCII seul"
