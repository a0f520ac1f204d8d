"""``retention``: destroy raw mails that are no longer needed (RGPD: keep no more than needed).

A raw mail is destroyed ``[intake] raw_retention_days`` after it was handled
when it ended ``processed``, ``ignored`` or ``duplicate`` and the entry it
created or completed is no longer incomplete. Quarantined and escalated mails
keep their bytes until a human has dealt with them (the digest attaches them).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select, update

from mailbot.app import App
from mailbot.jobs import Job, register
from store import audit
from store.models import Entry, EntryStatus, InboundMessage, InboundState

DESTROYABLE = (InboundState.PROCESSED, InboundState.IGNORED, InboundState.DUPLICATE)


def run(app: App, now: dt.datetime) -> str:
    """Destroy the raw bytes that have outlived their use; return how many."""
    limit = now - dt.timedelta(days=app.config.intake.raw_retention_days)
    with app.db.transaction() as session:
        ids = list(session.scalars(
            select(InboundMessage.id)
            .outerjoin(Entry, Entry.id == InboundMessage.entry_id)
            .where(InboundMessage.raw.is_not(None),
                   InboundMessage.state.in_([str(s) for s in DESTROYABLE]),
                   InboundMessage.processed_at <= limit,
                   or_(InboundMessage.entry_id.is_(None),
                       and_(Entry.status != EntryStatus.INCOMPLETE,
                            Entry.status != EntryStatus.RECEIVED)))))
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            session.execute(update(InboundMessage).where(InboundMessage.id.in_(chunk))
                            .values(raw=None, raw_destroyed_at=now))
        if ids:
            audit.record(session, actor="job:retention", action="inbound.raw_destroyed",
                         object_type="inbound", after={"count": len(ids)}, at=now)
    return f"{len(ids)} message(s) brut(s) détruit(s)"


JOB = register(Job("retention", "détruit les messages bruts devenus inutiles (durée de conservation)",
                   "30 3 * * *", run))
