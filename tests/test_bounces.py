"""Bounces: the parser on real shapes, then failing addresses and the call list (both backends)."""

from __future__ import annotations

import datetime as dt
import json
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from parsers.bounces import analyse_bounce
from store.models import Alert, EntryStatus, InboundMessage
from store.models_recontact import AddressEvent, AddressStatus, CallItem
from tests.helpers import DATA, Bot
from tests.recontact_support import (
    ASK,
    OWN,
    PATIENT,
    REMIND,
    add_entry,
    entry,
    last_inbound,
    receive,
    recontact,
    reply_to,
    rounds,
)

SAMPLES = sorted((DATA / "bounces").glob("*.eml"))
LATER = ASK + dt.timedelta(hours=2)
_SERIAL = iter(range(1, 1_000_000))


def fill(sample: Path, *, recipient: str = PATIENT, message_id: str = "<q1@cpts-exemple.mssante.fr>",
         subject: str = "Etes-vous toujours a la recherche ? [CPTS-R-ABCDEFGHJKMNPQ]") -> bytes:
    """A sample bounce about one of our mails."""
    raw = sample.read_bytes()
    for key, value in ((b"{{RECIPIENT}}", recipient), (b"{{MESSAGE_ID}}", message_id),
                       (b"{{SUBJECT}}", subject), (b"{{OWN}}", OWN)):
        raw = raw.replace(key, value.encode("ascii"))
    # Each notice is a new mail (the same one twice would be a duplicate).
    return f"Message-ID: <bounce-{next(_SERIAL)}@mx.example>\r\n".encode() + raw


def expected(sample: Path) -> dict[str, object]:
    return dict(json.loads(sample.with_suffix(".json").read_text(encoding="utf-8")))


def test_there_are_samples_of_every_usual_shape() -> None:
    names = " ".join(p.name for p in SAMPLES)
    for shape in ("postfix", "exim", "exchange", "gmail", "fournisseur-fr", "qmail", "temporaire"):
        assert shape in names
    assert all(p.with_suffix(".json").exists() for p in SAMPLES)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_parser_reads_each_sample(sample: Path) -> None:
    want = expected(sample)
    report = analyse_bounce(fill(sample), own_addresses=(OWN,))
    assert [f.address for f in report.failures] == [PATIENT]
    assert [f.permanent for f in report.failures] == want["permanent"]
    assert ("<q1@cpts-exemple.mssante.fr>" in report.message_ids) is want["message_id"]
    if "status" in want:
        assert report.failures[0].status == want["status"]


@pytest.mark.parametrize("raw", [b"", b"\x00\xff garbage", b"From: x\r\n\r\n",
                                 b"Content-Type: multipart/report; boundary=x\r\n\r\n--x\r\n"
                                 b"Content-Type: message/delivery-status\r\n\r\n--x--"])
def test_parser_never_raises(raw: bytes) -> None:
    assert analyse_bounce(raw).failures == ()


def _question(bot: Bot) -> EmailMessage:
    add_entry(bot)
    recontact(bot, ASK)
    [question] = bot.sent()
    return question


def _bounce(bot: Bot, sample: Path, question: EmailMessage, **kwargs: str) -> dict[str, int]:
    raw = fill(sample, message_id=question["Message-ID"], subject=str(question["Subject"]).encode(
        "ascii", "replace").decode("ascii"), **kwargs)
    return receive(bot, raw, LATER)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_bounce_of_a_question_marks_the_address_and_calls_the_patient(bot: Bot,
                                                                       sample: Path) -> None:
    question = _question(bot)
    ref = bot.export()[0]["ref"]
    permanent = expected(sample)["permanent"] == [True]
    assert _bounce(bot, sample, question) == {"processed": 1}
    row = last_inbound(bot)
    assert row.kind == "bounce" and row.entry_id == entry(bot, ref).id
    assert len(bot.sent()) == 1  # a bounce is never answered
    with bot.app.db.sessions() as session:
        status = session.get(AddressStatus, PATIENT)
        assert status is not None
        assert status.state == ("failing" if permanent else "ok")
        assert (status.permanent_failures, status.temporary_failures) == (
            (1, 0) if permanent else (0, 1))
        on_list = session.scalars(select(CallItem)).all()
    [round_] = rounds(bot, ref)
    if permanent:
        assert round_.outcome == "bounced"
        assert [(i.reason, i.closed_at) for i in on_list] == [("address_failing", None)]
        assert ref in bot.cli("calls", "list").stdout
    else:
        assert round_.closed_at is None and on_list == []


def test_repeated_temporary_failures_fail_the_address(bot: Bot) -> None:
    question = _question(bot)
    delayed = DATA / "bounces" / "002-postfix-dsn-delayed.eml"
    for _ in range(2):
        _bounce(bot, delayed, question)
    with bot.app.db.sessions() as session:
        assert session.scalars(select(CallItem)).all() == []
    _bounce(bot, delayed, question)
    with bot.app.db.sessions() as session:
        status = session.get(AddressStatus, PATIENT)
        assert status is not None and status.state == "failing" and status.temporary_failures == 3
        [item] = session.scalars(select(CallItem)).all()
        assert item.detail == "non-remises temporaires répétées"


def test_bounces_about_nothing_we_sent_are_ignored_and_mark_nothing(bot: Bot) -> None:
    question = _question(bot)
    sample = DATA / "bounces" / "001-postfix-dsn-permanent.eml"
    # About a mail we never sent, to an address we never wrote to.
    stray = fill(sample, recipient="quelquun@example.org", message_id="<other@example.org>")
    assert receive(bot, stray, LATER) == {"ignored": 1}
    # Forged: names our mail, but a recipient that mail never had.
    forged = fill(sample, recipient="victime@example.org", message_id=question["Message-ID"])
    assert receive(bot, forged, LATER) == {"ignored": 1}
    with bot.app.db.sessions() as session:
        assert session.scalars(select(AddressStatus)).all() == []
        assert session.scalars(select(AddressEvent)).all() == []
        assert session.scalars(select(CallItem)).all() == []
    assert rounds(bot, bot.export()[0]["ref"])[0].closed_at is None


def test_failing_address_is_called_not_mailed_next_month_until_it_works_again(bot: Bot) -> None:
    question = _question(bot)
    ref = bot.export()[0]["ref"]
    _bounce(bot, DATA / "bounces" / "005-gmail-dsn.eml", question)
    bot.cli("calls", "record", ref, "--outcome", "still-looking")
    assert entry(bot, ref).confirmed_at is not None
    recontact(bot, ASK + dt.timedelta(days=42))  # a Tuesday, a month after the question
    assert len(bot.sent()) == 1  # not mailed again: on the call list instead
    listing = bot.cli("calls", "list").stdout
    assert ref in listing and "adresse e-mail en échec" in listing
    # The patient writes from that address after all (a late answer): it works again.
    assert receive(bot, reply_to(question, "oui"), ASK + dt.timedelta(days=43)) == {"processed": 1}
    with bot.app.db.sessions() as session:
        status = session.get(AddressStatus, PATIENT)
        assert status is not None and status.state == "ok" and status.last_success_at
        kinds = [e.kind for e in session.scalars(select(AddressEvent).order_by(AddressEvent.id))]
        assert kinds == ["permanent", "success"]
    assert ref not in bot.cli("calls", "list").stdout


def test_bounce_of_a_partner_acknowledgement_raises_an_alert(bot: Bot) -> None:
    bot.drop_example("01-dac-text-form.eml")
    bot.run_once()
    [ack] = bot.sent()
    raw = fill(DATA / "bounces" / "001-postfix-dsn-permanent.eml", recipient=ack["To"],
               message_id=ack["Message-ID"], subject="Inscription")
    assert receive(bot, raw, LATER) == {"processed": 1}
    with bot.app.db.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.kind == "bounce")).one()
        assert "ack_registered" in alert.reason and "5.1.1" in alert.reason
        assert session.scalars(select(CallItem)).all() == []
        row = session.scalars(select(InboundMessage).order_by(InboundMessage.id.desc())).first()
        assert row is not None and row.kind == "bounce"
    assert bot.export()[0]["status"] == EntryStatus.WAITING


def test_question_refused_by_the_smtp_server_marks_the_address_failing(
        tmp_path: Path, database_section: dict[str, str], smtp_server: object, pki: object) -> None:
    """A real SMTP server refuses the recipient (550): the next run learns the address fails."""
    from tests.servers.pki import TEST_PASSWORD, TEST_USER

    server = smtp_server
    outbound = {"transport": "smtp", "host": server.host, "port": server.tls_port,  # type: ignore[attr-defined]
                "tls": "implicit", "ca_file": str(pki.ca_cert),  # type: ignore[attr-defined]
                "client_cert": str(pki.client_cert), "client_key": str(pki.client_key),  # type: ignore[attr-defined]
                "user": TEST_USER, "password": TEST_PASSWORD, "timeout_seconds": 5.0}
    bot = Bot.create(tmp_path, database_section, extra={"outbound": outbound})
    try:
        server.handler.refuse_recipient(PATIENT)  # type: ignore[attr-defined]
        ref = add_entry(bot)
        add_entry(bot, email="paul.ok@orange.fr", nom="MARTIN")
        recontact(bot, ASK)
        assert [m.recipients for m in server.messages] == [["paul.ok@orange.fr"]]  # type: ignore[attr-defined]
        summary = recontact(bot, ASK + dt.timedelta(hours=1))
        assert "1 adresse(s) en échec" in summary
        assert rounds(bot, ref)[0].outcome == "bounced"
        with bot.app.db.sessions() as session:
            status = session.get(AddressStatus, PATIENT)
            assert status is not None and status.state == "failing"
        assert ref in bot.cli("calls", "list").stdout
        recontact(bot, REMIND)  # no reminder to a failing address
        assert len(server.messages) == 2  # type: ignore[attr-defined]
        assert {m.recipients[0] for m in server.messages} == {"paul.ok@orange.fr"}  # type: ignore[attr-defined]
    finally:
        bot.close()
