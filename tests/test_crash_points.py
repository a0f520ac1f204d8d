"""Killing the processing at each point and running again: nothing lost, nothing doubled."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from store.models import Entry, InboundMessage, OutboxMessage
from tests.helpers import Bot
from tests.test_intake_e2e import COMPLETE, DAC, mail


@pytest.mark.parametrize("point", ["after_store", "after_commit", "before_send", "after_send"])
def test_crash_then_rerun_loses_nothing_and_doubles_nothing(bot: Bot, point: str) -> None:
    bot.drop(mail(DAC, COMPLETE, message_id="k1@dac16.mssante.fr"))
    bot.drop(mail(DAC, COMPLETE.replace("MARTIN", "BERNARD"), message_id="k2@dac16.mssante.fr"))
    bot.drop(mail("x@example.org", COMPLETE, message_id="k3@example.org"))

    crashed = bot.cli("run", "--once", env={"MAILBOT_CRASH_AT": point}, check=False)
    assert crashed.returncode == 137, crashed.stderr
    bot.cli("run", "--once")
    bot.cli("run", "--once")  # a third pass finds nothing more to do

    with bot.app.db.sessions() as session:
        states = dict(session.execute(
            select(InboundMessage.state, func.count()).group_by(InboundMessage.state)).all())
        assert states == {"processed": 2, "quarantined": 1}
        assert session.scalar(select(func.count()).select_from(Entry)) == 2
        outbox = session.scalars(select(OutboxMessage)).all()
        assert len(outbox) == 2 and {m.state for m in outbox} == {"sent"}
    assert len(bot.sent()) == 2
    assert list((bot.inbox / "new").iterdir()) == []
