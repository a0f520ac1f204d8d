"""Retention of raw mails, and ``mailbot audit verify``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from mailbot.jobs.schedule import run_job
from store.models import AuditRecord, InboundMessage
from tests.helpers import Bot
from tests.test_intake_e2e import COMPLETE, DAC, mail


def test_raw_mails_are_destroyed_after_retention_except_open_cases(bot: Bot) -> None:
    bot.drop(mail(DAC, COMPLETE, message_id="ok@dac16.mssante.fr"))
    bot.drop(mail(DAC, "Nom : X\nPrénom : Y\n", message_id="inc@dac16.mssante.fr"))
    bot.drop(mail("x@example.org", COMPLETE, message_id="q@example.org"))
    bot.run_once()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=31)
    assert "1 message" in run_job(bot.app, "retention", at=later)
    with bot.app.db.sessions() as session:
        rows = {r.message_id: r for r in session.scalars(select(InboundMessage))}
    assert rows["ok@dac16.mssante.fr"].raw is None and rows["ok@dac16.mssante.fr"].raw_destroyed_at
    assert rows["inc@dac16.mssante.fr"].raw is not None  # entry still incomplete
    assert rows["q@example.org"].raw is not None  # quarantined: a human has not looked yet
    # Too early: nothing destroyed.
    assert run_job(bot.app, "retention", at=dt.datetime.now(dt.UTC)).startswith("0 ")


def test_audit_verify_from_the_command_line(bot: Bot) -> None:
    bot.drop(mail(DAC, COMPLETE, message_id="a1@dac16.mssante.fr"))
    bot.run_once()
    ok = bot.cli("audit", "verify")
    assert "intacte" in ok.stdout
    with bot.app.db.transaction() as session:
        first = session.scalars(select(AuditRecord.id).order_by(AuditRecord.id)).first()
        session.execute(update(AuditRecord).where(AuditRecord.id == first).values(action="x"))
    broken = bot.cli("audit", "verify", check=False)
    assert broken.returncode == 1 and "modifiée" in broken.stdout
