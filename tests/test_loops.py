"""No mail loops: two bots, or the bot and an autoresponder, stop by themselves (both backends)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select, text

from store.db import Database
from store.models import Alert, AuditRecord, InboundMessage
from tests.conftest import PG_URL
from tests.helpers import Bot, body_of
from tests.recontact_support import (
    ASK,
    OWN,
    PATIENT,
    add_entry,
    entry,
    receive,
    recontact,
    reply_to,
)

OTHER = "liste-attente@cpts-voisine.example.org"
ROBOT = "repondeur@free.fr"
MAX_EXCHANGES = 10


def _outgoing(bot: Bot, seen: set[str]) -> list[tuple[str, bytes]]:
    """Files the bot wrote since last time: (file name, raw)."""
    new = []
    for path in sorted((bot.outbox_dir / "new").iterdir()):
        if path.name not in seen:
            seen.add(path.name)
            new.append((path.name, path.read_bytes()))
    return new


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _assert_all_auto_submitted(*bots: Bot) -> None:
    for bot in bots:
        for msg in bot.sent():
            assert msg["Auto-Submitted"] in ("auto-generated", "auto-replied"), msg["Subject"]
            assert msg["X-CPTS-Mailbot"]


@pytest.fixture
def neighbour(tmp_path: Path, database_section: dict[str, str]) -> Iterator[Bot]:
    """A second bot (another CPTS), on its own database of the same backend."""
    section = dict(database_section)
    schema = None
    if "schema" in section:
        schema = section["schema"] + "_b"
        section["schema"] = schema
    else:
        section["url"] = f"sqlite:///{tmp_path / 'other' / 'var' / 'mailbot.db'}"
    root = tmp_path / "other"
    root.mkdir()
    bot = Bot.create(root, section, extra={"identity": {"address": OTHER, "name": "CPTS Voisine"}})
    try:
        yield bot
    finally:
        bot.close()
        if schema:
            admin = Database(PG_URL)
            with admin.engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


def _strip(raw: bytes, names: tuple[str, ...]) -> bytes:
    """What a careless forwarding service does: drop some headers."""
    head, _, body = raw.partition(b"\r\n\r\n")
    kept = [line for line in head.split(b"\r\n")
            if not any(line.lower().startswith(n.lower().encode() + b":") for n in names)]
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


@pytest.mark.parametrize("stripped", [(), ("X-CPTS-Mailbot",),
                                      ("X-CPTS-Mailbot", "Auto-Submitted", "X-Auto-Response-Suppress")],
                         ids=["headers-intact", "loop-header-stripped", "all-loop-headers-stripped"])
def test_two_bots_writing_to_each_other_stop_by_themselves(bot: Bot, neighbour: Bot,
                                                           stripped: tuple[str, ...]) -> None:
    # Each bot has a "patient" whose address is, by mistake, the other bot.
    add_entry(bot, email=OTHER)
    add_entry(neighbour, email=OWN)
    recontact(bot, ASK)
    recontact(neighbour, ASK)
    seen: dict[str, set[str]] = {"a": set(), "b": set()}
    exchanged = 0
    for _round in range(MAX_EXCHANGES):
        moved = 0
        for source, target, key in ((bot, neighbour, "a"), (neighbour, bot, "b")):
            for name, raw in _outgoing(source, seen[key]):
                target.drop(_strip(raw, stripped), name=f"from-{key}-{name}")
                moved += 1
        if not moved:
            break
        exchanged += moved
        for one in (bot, neighbour):
            one.app.clock = one.clock
            one.clock.frozen = ASK + dt.timedelta(minutes=5 * (_round + 1))
            one.run_once()
    else:
        pytest.fail("the bots were still writing to each other")
    assert exchanged == 2  # the two questions, nothing more
    for one in (bot, neighbour):
        with one.app.db.sessions() as session:
            [row] = session.scalars(select(InboundMessage)).all()
            assert row.state in ("ignored", "quarantined")
    _assert_all_auto_submitted(bot, neighbour)


def _autoresponder(msg: EmailMessage, body: str, number: int) -> bytes:
    """A badly behaved autoresponder: no Auto-Submitted, answers everything, keeps threading."""
    refs = " ".join(filter(None, [str(msg.get("References", "")), msg["Message-ID"]]))
    quoted = "\n".join("> " + line for line in body_of(msg).splitlines())
    return (f"From: {ROBOT}\r\nTo: {OWN}\r\nSubject: RE: {msg['Subject']}\r\n"
            f"Message-ID: <echo-{number}@free.fr>\r\nIn-Reply-To: {msg['Message-ID']}\r\n"
            f"References: {refs}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n" + body + "\n\n" + quoted + "\n").encode()


@pytest.mark.parametrize("echo, answers", [("OUI", 2), ("Je suis absent pour le moment.", 1),
                                           ("Je ne comprends pas votre message ?", 1)],
                         ids=["echoes-oui", "absence-text", "unclear"])
def test_bot_and_autoresponder_stop_by_themselves(bot: Bot, echo: str, answers: int) -> None:
    ref = add_entry(bot, email=ROBOT)
    recontact(bot, ASK)
    seen: set[str] = set()
    for number in range(1, MAX_EXCHANGES + 1):
        new = _outgoing(bot, seen)
        if not new:
            break
        for _name, raw in new:
            bot.drop(_autoresponder(_parse(raw), echo, number))
        bot.app.clock = bot.clock
        bot.clock.frozen = ASK + dt.timedelta(minutes=5 * number)
        bot.run_once()
    else:
        pytest.fail("the bot kept answering the autoresponder")
    assert len(bot.sent()) == answers  # the question, and at most one thank-you
    if echo == "OUI":
        assert entry(bot, ref).confirmed_at is not None
    _assert_all_auto_submitted(bot)


def test_hourly_cap_stops_answers_records_it_and_never_breaks_the_workflow(
        tmp_path: Path, database_section: dict[str, str]) -> None:
    bot = Bot.create(tmp_path, database_section, extra={"limits": {"replies_per_sender_per_hour": 1}})
    try:
        fast = add_entry(bot)
        slow = add_entry(bot, email="paul.lent@orange.fr", nom="MARTIN", prenom="Paul")
        recontact(bot, ASK)
        first, second = bot.sent()
        first, second = (first, second) if first["To"] == PATIENT else (second, first)
        # Within the hour of the question, the thank-you would be a second mail: not sent.
        assert receive(bot, reply_to(first, "OUI"), ASK + dt.timedelta(minutes=30)) == {
            "processed": 1}
        assert entry(bot, fast).confirmed_at is not None  # the answer itself is taken
        assert len(bot.sent()) == 2
        with bot.app.db.sessions() as session:
            [capped] = session.scalars(select(AuditRecord).where(
                AuditRecord.action == "outbox.capped")).all()
            assert capped.after == {"kind": "recontact_ack", "entry_id": entry(bot, fast).id}
            [alert] = session.scalars(select(Alert).where(Alert.kind == "reply_rate_capped")).all()
            assert "boucle" in alert.reason and alert.entry_id == entry(bot, fast).id
        # Later on, answers resume.
        late = reply_to(second, "OUI", sender="paul.lent@orange.fr")
        assert receive(bot, late, ASK + dt.timedelta(hours=2)) == {"processed": 1}
        assert entry(bot, slow).confirmed_at is not None
        assert len(bot.sent()) == 3
        _assert_all_auto_submitted(bot)
    finally:
        bot.close()


def test_never_answers_its_own_mail(bot: Bot) -> None:
    add_entry(bot)
    recontact(bot, ASK)
    [question] = bot.sent()
    raw = question.as_bytes()
    bot.drop(raw)  # our own mail comes back (an alias, a forward)
    forwarded = re.sub(rb"^From: .*$", b"From: someone@gmail.com", raw, count=1, flags=re.M)
    forwarded = forwarded.replace(question["Message-ID"].encode(), b"<fwd-1@gmail.com>")
    bot.drop(forwarded)  # forwarded by a stranger, our loop header still there
    bot.app.clock = bot.clock
    bot.clock.frozen = ASK + dt.timedelta(hours=1)
    assert bot.run_once().states == {"ignored": 2}
    with bot.app.db.sessions() as session:
        assert {r.kind for r in session.scalars(select(InboundMessage))} == {"own_mail"}
    assert len(bot.sent()) == 1
