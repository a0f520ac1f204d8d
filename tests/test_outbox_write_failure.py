"""A Maildir outbox that cannot be written: nothing is recorded as sent, nothing is lost."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from mailbot.inbound.pipeline import Pipeline
from mailbot.transports.factory import inbound_transport
from mailbot.transports.maildir import MaildirOutbound
from store.models import OutboxMessage, OutboxState
from tests.helpers import Bot


def test_a_failed_write_keeps_the_batch_pending_then_sends_it_once(bot: Bot) -> None:
    bot.drop_example("01-dac-text-form.eml")
    pipeline = Pipeline(bot.app, inbound_transport(bot.app.config.inbound))

    async def ingest() -> None:
        await pipeline.inbound.open()
        await pipeline.ingest()
        await pipeline.inbound.close()

    asyncio.run(ingest())
    with bot.app.db.sessions() as session:
        [mail] = session.scalars(select(OutboxMessage)).all()
        name = MaildirOutbound.file_name(mail.raw)
    blocker = bot.outbox_dir / "new" / name
    blocker.mkdir()  # a folder where the file should go: renaming the written file fails

    assert asyncio.run(pipeline.outbox.deliver_due()) == {"retry": 1}
    assert not list((bot.outbox_dir / "tmp").iterdir())  # no half-written file left behind
    with bot.app.db.sessions() as session:
        mail = session.scalars(select(OutboxMessage)).one()
        assert mail.state == OutboxState.PENDING and mail.sent_at is None and mail.attempts == 0

    blocker.rmdir()
    report = bot.run_once()
    assert report.delivery == {"sent": 1}
    [ack] = bot.sent()
    assert ack["To"] == "coordination@dac16.mssante.fr"
    assert bot.run_once().delivery == {}
    assert len(bot.sent()) == 1
    assert not list((bot.outbox_dir / "tmp").iterdir())
