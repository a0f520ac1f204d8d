"""The inbound mix of ``benchmarks/load.py``: referrals, GPs' and patients' replies,
bounces, auto-replies, coordinators' commands and a few hostile mails, each with a
Message-ID of its own (the run follows every mail by it)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from benchmarks import hostile_mails
from benchmarks.load_seed import BOT, Asked
from benchmarks.mailgen import referral_mail
from tests.helpers import DATA
from tests.test_matching_support import reply

COORDINATOR = "coordination@cpts-exemple.mssante.fr"
PARTNER = "coordination@dac16.mssante.fr"
BOUNCES = sorted((DATA / "bounces").glob("*.eml"))
# Share of each kind; referrals take what the others leave (and what an empty pool leaves).
MIX = {"patient_reply": 0.10, "gp_reply": 0.05, "bounce": 0.04, "auto_reply": 0.08,
       "command": 0.08, "hostile": 0.03}
PATIENT_ANSWERS = ["OUI", "Oui toujours, merci", "NON", "Non merci j'ai trouvé un médecin",
                   "oui merci", "Je ne sais pas trop"]
GP_ANSWERS = ["OUI", "Oui je la prends.\n\nDr X\nEnvoyé depuis mon iPhone", "NON",
              "Non, je suis complet.", "Je vous rappelle"]
_FROM = re.compile(rb"^From:[^\r\n]*?<?([^<>\s\"]+@[^<>\s\"]+?)>?\s*$",
                   re.IGNORECASE | re.MULTILINE)
_MESSAGE_ID = re.compile(rb"^Message-ID:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*",  # folded too
                         re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Inbound:
    """One mail to deliver."""

    kind: str
    message_id: str  # with its angle brackets
    raw: bytes
    envelope_from: str  # the SMTP envelope sender ("" for a bounce: the null sender)


def _with_id(raw: bytes, message_id: str) -> bytes:
    """``raw`` with its Message-ID header replaced (or added) by ``message_id`` (a quoted
    mail's Message-ID, in the body, is left alone)."""
    line = f"Message-ID: {message_id}\r\n".encode("ascii")
    ends = [i + 2 for i in (raw.find(b"\r\n\r\n"),) if i >= 0]
    ends += [i + 1 for i in (raw.find(b"\n\n"),) if i >= 0]
    end = min(ends, default=len(raw))  # the header block, up to its last line's end
    head, body = raw[:end], raw[end:]
    if _MESSAGE_ID.search(head):
        return _MESSAGE_ID.sub(lambda _m: line, head, count=1) + body
    return line + raw


def _bounce(rng: random.Random, about: Asked, message_id: str) -> bytes:
    raw = rng.choice(BOUNCES).read_bytes()
    for key, value in ((b"{{RECIPIENT}}", about.recipient), (b"{{MESSAGE_ID}}", about.message_id),
                       (b"{{SUBJECT}}", f"Toujours a la recherche ? [{about.token}]"),
                       (b"{{OWN}}", BOT)):
        raw = raw.replace(key, value.encode("ascii"))
    return _with_id(raw, message_id)


def _auto_reply(n: int, message_id: str) -> bytes:
    return (f"From: \"Coordination DAC Charente\" <{PARTNER}>\r\nTo: {BOT}\r\n"
            "Subject: Réponse automatique : Inscription enregistrée\r\n"
            f"Date: Mon, 02 Nov 2026 09:20:00 +0100\r\nMessage-ID: {message_id}\r\n"
            "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"Je suis absente jusqu'au 9 novembre (n° {n}). En cas d'urgence, contactez le "
            "standard.\r\n").encode()


def _command(rng: random.Random, message_id: str) -> bytes:
    body = rng.choice(["AIDE\n", "Bonjour,\n\nAIDE\n\nMarie\n", "STATUT E-AAAAAA\n"])
    return reply(COORDINATOR, body, subject="Commandes", message_id=message_id.strip("<>"))


def _hostile(rng: random.Random, message_id: str) -> bytes:
    make = rng.choice([hostile_mails.unknown_charsets, hostile_mails.headers_only,
                       hostile_mails.empty, lambda: hostile_mails.many_lines(400)])
    return _with_id(make(), message_id)


def _from_address(raw: bytes) -> str:
    """The address of the ``From:`` header, as the sending MTA puts it in the envelope."""
    match = _FROM.search(raw.split(b"\r\n\r\n", 1)[0])
    return match.group(1).decode("ascii", "replace") if match else PARTNER


class Mix:
    """Draws inbound mails, deterministic for a seed; ``asked`` feeds the replies and bounces
    (each question or proposal is answered or bounced at most once)."""

    def __init__(self, asked: list[Asked], seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.questions = [a for a in asked if a.kind == "recontact"]
        self.proposals = [a for a in asked if a.kind == "proposal"]
        self.rng.shuffle(self.questions)
        self.count = 0

    def _kind(self) -> str:
        draw = self.rng.random()
        for kind, share in MIX.items():
            if draw < share:
                return kind
            draw -= share
        return "referral"

    def next(self) -> Inbound:
        """The next mail."""
        self.count += 1
        n, rng = self.count, self.rng
        kind = self._kind()
        message_id = f"<load-{n}-{kind}@relais.test>"
        if kind == "patient_reply" and self.questions:
            about = self.questions.pop()
            raw = reply(about.recipient, rng.choice(PATIENT_ANSWERS),
                        subject=f"RE: Êtes-vous toujours à la recherche ? [{about.token}]",
                        message_id=message_id.strip("<>"), in_reply_to=about.message_id)
        elif kind == "gp_reply" and self.proposals:
            about = self.proposals.pop()
            raw = reply(about.recipient, rng.choice(GP_ANSWERS),
                        subject=f"RE: Proposition de patient [{about.token}]",
                        message_id=message_id.strip("<>"), in_reply_to=about.message_id)
        elif kind == "bounce" and self.questions:
            raw = _bounce(rng, self.questions.pop(), message_id)
        elif kind == "auto_reply":
            raw = _auto_reply(n, message_id)
        elif kind == "command":
            raw = _command(rng, message_id)
        elif kind == "hostile":
            raw = _hostile(rng, message_id)
        else:
            kind, message_id = "referral", f"<load-{n}-referral@relais.test>"
            raw = _with_id(referral_mail(rng, n), message_id)
        return Inbound(kind, message_id, raw, "" if kind == "bounce" else _from_address(raw))

    def take(self, count: int) -> list[Inbound]:
        """The next ``count`` mails."""
        return [self.next() for _ in range(count)]

    def __iter__(self) -> Iterator[Inbound]:
        while True:
            yield self.next()
