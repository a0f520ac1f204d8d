"""A mail whose processing fails is rolled back alone, retried, then escalated."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

import templates as shipped
from store.models import InboundMessage
from tests.helpers import Bot
from tests.test_intake_e2e import COMPLETE, DAC, mail


def test_one_failing_mail_does_not_stop_its_batch_and_ends_escalated(
        tmp_path: Path, database_section: dict[str, str]) -> None:
    # A real fault: an overriding template that cannot be rendered for one patient only.
    override = tmp_path / "modeles"
    override.mkdir()
    original = (shipped.PATH / "ack_registered.txt.j2").read_text(encoding="utf-8")
    (override / "ack_registered.txt.j2").write_text(
        original.replace("{% block body %}",
                         "{% block body %}{% if patient.startswith('PANNE') %}{{ variable_absente }}{% endif %}"),
        encoding="utf-8")
    bot = Bot.create(tmp_path, database_section, {"templates": {"path": str(override)}})
    try:
        bot.drop(mail(DAC, COMPLETE, message_id="good1@dac16.mssante.fr"))
        bot.drop(mail(DAC, COMPLETE.replace("MARTIN", "PANNE"), message_id="bad@dac16.mssante.fr"))
        bot.drop(mail(DAC, COMPLETE.replace("MARTIN", "PETIT"), message_id="good2@dac16.mssante.fr"))
        first = bot.run_once()
        assert first.states == {"processed": 2}
        assert len(bot.export()) == 2 and len(bot.sent()) == 2
        assert len(list((bot.inbox / "new").iterdir())) == 1  # the failing one stays for a retry
        bot.run_once()
        third = bot.run_once()
        assert third.states == {"escalated": 1}
        assert list((bot.inbox / "new").iterdir()) == []
        with bot.app.db.sessions() as session:
            bad = session.scalars(select(InboundMessage)
                                  .where(InboundMessage.message_id == "bad@dac16.mssante.fr")).one()
            assert bad.state == "escalated" and bad.kind == "processing_error"
            assert bad.attempts == 3 and bad.raw is not None
        assert {r["nom"] for r in bot.export()} == {"MARTIN", "PETIT"}  # nothing half-written
    finally:
        bot.close()
