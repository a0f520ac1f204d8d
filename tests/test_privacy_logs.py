"""Logs at DEBUG, in text and JSON, never carry a patient's identity, contact or free text.

Intake (complete, incomplete and wrong forms), a matching round with a GP's
acceptance, a recontact round answered by the patient, a digest and a
coordinator's command run with the root logger at DEBUG. Every line written,
every record's arguments and extra fields, and every exception message logged
are searched for the test data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy.exc
from sqlalchemy import select

from mailbot import logs
from mailbot.jobs.schedule import run_job
from mailbot.outbound.delivery import OutboxWorker
from store import entries
from store.models import InboundMessage
from tests.helpers import Bot
from tests.recontact_support import (
    ASK,
    HEALTH_FIELDS,
    PATIENT,
    add_entry,
    receive,
    recontact,
    reply_to,
)
from tests.test_intake_e2e import DAC, mail
from tests.test_matching_support import add_gp, gp_email, reply
from tests.test_privacy import FORM, INS, PERSON

SECRETS = [
    PERSON["nom"], PERSON["prenom"], "1948-03-12", "12/03/1948", "12.03.1948", "0612345678",
    "06 12 34 56 78", "+33612345678", "612345678", PERSON["mail"], "Glycines", "diabète",
    INS, INS[:13], PATIENT, "DURAND", "Marie", "Lefèvre", "Sophie Bernard", "cardiologique",
    "Soyaux", "Mme Dubois", "rue des",
]
BAD_FORM = """Nom : DURANDEAU
Prénom : Mariette
Date de naissance : 31/02/1948
INS : 2480316015123 99
Téléphone : 06 12 34 56 7
Mail : mariette.durandeau@example
Code postal : 99999
Motif : diabète, voir Mme Dubois
"""


class Capture(logging.Handler):
    """Keeps every record's text, arguments, extra fields and exception message."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(record.getMessage())
        self.texts.append(repr(record.args))
        self.texts.extend(repr(v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info and record.exc_info[1] is not None:
            self.texts.append(str(record.exc_info[1]))
            self.texts.append(repr(record.exc_info[1].args))


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _deliver(bot: Bot) -> None:
    asyncio.run(OutboxWorker(bot.app).deliver_due(limit=10_000))


def _failing_intake(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database error that quotes the row (as drivers do) during intake, until escalation."""
    def fail(*args: Any, **kwargs: Any) -> None:
        fields = kwargs.get("fields") or args[2]
        raise sqlalchemy.exc.IntegrityError("INSERT INTO entry …", dict(fields), ValueError(
            f"valeur refusée : {fields.get('nom')} {fields.get('telephone')}"))

    with monkeypatch.context() as patch:
        patch.setattr(entries, "create_entry", fail)
        patch.setattr(entries, "merge_fields", fail)
        bot.drop(mail(DAC, FORM.replace("16000", "16100"), message_id="log-4@dac16.mssante.fr"))
        for _ in range(4):
            bot.run_once()


def _scenario(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    bot.app.clock = bot.clock
    ref = add_entry(bot, motif="diabète déséquilibré, suivi cardiologique")
    recontact(bot, ASK)
    [question] = bot.sent()
    answer = "Non merci, j'ai trouvé un médecin traitant, le Dr Lefèvre à Soyaux.\nMarie DURAND"
    receive(bot, reply_to(question, answer), ASK + dt.timedelta(days=1))
    receive(bot, reply_to(question, "Je ne sais pas, appelez Mme Dubois au 06 12 34 56 78"),
            ASK + dt.timedelta(days=1, hours=1))
    day = ASK + dt.timedelta(days=2)
    bot.clock.frozen = day
    bot.drop(mail(DAC, FORM, message_id="log-1@dac16.mssante.fr"))
    bot.drop(mail(DAC, BAD_FORM, message_id="log-2@dac16.mssante.fr"))
    bot.drop(mail("inconnu@example.org", FORM, message_id="log-3@example.org"))
    bot.run_once()
    with bot.app.db.transaction() as session:
        add_gp(session, 1, now=day)
    run_job(bot.app, "proposals", at=day + dt.timedelta(hours=1))
    _deliver(bot)
    proposal = [m for m in bot.sent() if m["To"] == gp_email(1)][-1]
    bot.clock.frozen = day + dt.timedelta(hours=3)
    bot.drop(reply(gp_email(1), "OUI, je le prends.\nDr GP1", subject=f"RE: {proposal['Subject']}",
                   message_id="gp-yes@medecin.mssante.fr", in_reply_to=proposal["Message-ID"]))
    bot.run_once()
    _deliver(bot)
    _failing_intake(bot, monkeypatch)
    run_job(bot.app, "digest", at=day + dt.timedelta(days=1))
    run_job(bot.app, "recontact", at=day + dt.timedelta(days=8))
    run_job(bot.app, "retention", at=day + dt.timedelta(days=900))
    _deliver(bot)
    assert ref


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_patient_data_in_any_log_line_or_exception_message(
        bot: Bot, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    log_file = tmp_path / f"mailbot-{fmt}.log"
    logs.setup("DEBUG", fmt, log_file)
    capture = Capture()
    logging.getLogger().addHandler(capture)
    try:
        _scenario(bot, monkeypatch)
    finally:
        logging.getLogger().removeHandler(capture)
        logs.setup("WARNING", "text", None)
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 20 and any("DEBUG" in line for line in lines)  # DEBUG really was on
    everything = "\n".join([*lines, *capture.texts]).lower()
    found = sorted({s for s in SECRETS if s.lower() in everything})
    assert found == [], [line for line in lines if any(s.lower() in line.lower() for s in found)][:10]
    assert any("processing failed (IntegrityError)" in line for line in lines)
    with bot.app.db.sessions() as session:
        failed = session.scalars(select(InboundMessage).where(
            InboundMessage.message_id == "log-4@dac16.mssante.fr")).one()
    assert failed.state == "escalated" and failed.reason == "erreur interne répétée (IntegrityError)"
    assert HEALTH_FIELDS["referent_nom"] == "Sophie Bernard"  # the data searched is the data used
