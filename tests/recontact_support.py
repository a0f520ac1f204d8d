"""Shared helpers of the recontact, bounce, loop and call-list tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.clock import PARIS
from mailbot.jobs.schedule import run_job
from mailbot.outbound.delivery import OutboxWorker
from store import entries
from store.models import Entry, EntryStatus, InboundMessage
from store.models_recontact import RecontactRound
from tests.helpers import Bot

OWN = "liste-attente@cpts-exemple.mssante.fr"
PATIENT = "marie.durand@gmail.com"
REGISTERED = dt.datetime(2026, 10, 15, 10, 0, tzinfo=PARIS)
ASK = dt.datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)          # a Tuesday, inside the window
REMIND = ASK + dt.timedelta(days=7)
GIVE_UP = REMIND + dt.timedelta(days=7)
TOKEN = re.compile(r"\[CPTS-R-([0-9A-Z]+)\]")

# What the referrer wrote and must never reach a patient's personal mailbox.
HEALTH_FIELDS: dict[str, Any] = {
    "nom": "DURAND", "prenom": "Marie", "date_naissance": dt.date(1948, 3, 12),
    "telephone": "+33612345678", "code_postal": "16000", "commune": "Angoulême",
    "ald": True, "mobilite_reduite": True, "motif": "diabète déséquilibré, suivi cardiologique",
    "ancien_medecin": "Dr Lefèvre, parti à la retraite", "consentement": True,
    "referent_nom": "Sophie Bernard", "referent_structure": "DAC Charente",
}


def paris(*args: int) -> dt.datetime:
    """A Paris wall-clock instant."""
    return dt.datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


@contextmanager
def session_of(bot: Bot) -> Iterator[Session]:
    """A read-write transaction on the bot's database."""
    with bot.app.db.transaction() as session:
        yield session


def add_entry(bot: Bot, *, email: str | None = PATIENT, status: EntryStatus = EntryStatus.WAITING,
              registered: dt.datetime = REGISTERED, **fields: Any) -> str:
    """Register a patient directly in the store; return the entry reference."""
    values = {**HEALTH_FIELDS, **fields}
    if email:
        values["email"] = email
    with session_of(bot) as session:
        entry = entries.create_entry(session, fields=values, status=status, problems=[],
                                     now=registered, referrer_email="coordination@dac16.mssante.fr",
                                     referrer_name="Sophie Bernard")
        return entry.ref


def entry(bot: Bot, ref: str) -> Entry:
    """The entry with its history loaded."""
    with bot.app.db.sessions() as session:
        found = entries.get_by_ref(session, ref)
        assert found is not None
        _ = list(found.events)
        return found


def rounds(bot: Bot, ref: str) -> list[RecontactRound]:
    """The entry's recontact rounds, oldest first."""
    with bot.app.db.sessions() as session:
        found = entries.get_by_ref(session, ref)
        assert found is not None
        return list(session.scalars(select(RecontactRound).where(
            RecontactRound.entry_id == found.id).order_by(RecontactRound.id)))


def last_inbound(bot: Bot) -> InboundMessage:
    """The newest inbound message."""
    with bot.app.db.sessions() as session:
        row = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        assert row is not None
        return row


def recontact(bot: Bot, when: dt.datetime) -> str:
    """Run the ``recontact`` job in-process as if the clock read ``when``, then deliver."""
    bot.app.clock = bot.clock
    bot.clock.frozen = when
    summary = run_job(bot.app, "recontact")
    asyncio.run(OutboxWorker(bot.app).deliver_due(limit=100_000))
    return summary


def receive(bot: Bot, raw: bytes, when: dt.datetime) -> dict[str, int]:
    """Drop a mail and run one pass at ``when``; return the terminal states counted."""
    bot.app.clock = bot.clock
    bot.clock.frozen = when
    bot.drop(raw)
    return dict(bot.run_once().states)


def sent_to(bot: Bot, address: str) -> list[EmailMessage]:
    """Mails written to ``address``, oldest first."""
    return [m for m in bot.sent() if m["To"] == address]


def token_of(msg: EmailMessage) -> str:
    """The ``[CPTS-R-…]`` code in a mail's subject."""
    match = TOKEN.search(str(msg["Subject"]))
    assert match, msg["Subject"]
    return match.group(1)


_COUNTER = iter(range(1, 1_000_000))


def answer(sender: str, body: str, *, subject: str, in_reply_to: str | None = None,
           headers: str = "", quote: str | None = None) -> bytes:
    """A patient's answer as a webmail writes it (quoted question below the new text)."""
    number = next(_COUNTER)
    threading = f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n" if in_reply_to else ""
    text = body
    if quote:
        text += "\n\nLe mar. 1 déc. 2026 à 10:00, CPTS Exemple <" + OWN + "> a écrit :\n"
        text += "\n".join("> " + line for line in quote.splitlines())
    return (
        f"From: Patient <{sender}>\r\nTo: {OWN}\r\nSubject: {subject}\r\n"
        f"Date: Wed, 02 Dec 2026 10:00:00 +0100\r\nMessage-ID: <answer-{number}@mail.example>\r\n"
        f"{threading}{headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + text + "\n"
    ).encode("utf-8")


def reply_to(msg: EmailMessage, body: str, *, sender: str = PATIENT, headers: str = "") -> bytes:
    """A threaded "Reply" to one of our mails, quoting it."""
    quoted = msg.get_body(preferencelist=("plain",))
    assert quoted is not None
    return answer(sender, body, subject=f"RE: {msg['Subject']}", in_reply_to=msg["Message-ID"],
                  headers=headers, quote=str(quoted.get_content()))
