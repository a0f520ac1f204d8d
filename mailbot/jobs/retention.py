"""``retention``: keep no more than needed (RGPD): destroy raw mails, anonymise old outcomes.

A raw mail is destroyed ``[intake] raw_retention_days`` after it was handled
when it ended ``processed``, ``ignored`` or ``duplicate`` and the entry it
created or completed is no longer incomplete. Quarantined and escalated mails
keep their bytes until a human has dealt with them (the digest attaches them).
Resolved and closed entries are anonymised ``[intake] anonymise_after_months``
after their outcome (:mod:`mailbot.privacy.anonymise`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.jobs import Job, register
from mailbot.privacy import anonymise
from store import audit
from store.models import Entry, EntryStatus, InboundMessage, InboundState

DESTROYABLE = (InboundState.PROCESSED, InboundState.IGNORED, InboundState.DUPLICATE)


def raw_due(app: App, session: Session, now: dt.datetime) -> list[int]:
    """Ids of the inbound mails whose raw bytes have outlived their use at ``now``."""
    limit = now - dt.timedelta(days=app.config.intake.raw_retention_days)
    return list(session.scalars(
        select(InboundMessage.id)
        .outerjoin(Entry, Entry.id == InboundMessage.entry_id)
        .where(InboundMessage.raw.is_not(None),
               InboundMessage.state.in_([str(s) for s in DESTROYABLE]),
               InboundMessage.processed_at <= limit,
               or_(InboundMessage.entry_id.is_(None),
                   and_(Entry.status != EntryStatus.INCOMPLETE,
                        Entry.status != EntryStatus.RECEIVED)))
        .order_by(InboundMessage.id)))


def dry_run(app: App, now: dt.datetime) -> list[str]:
    """What :func:`run` would do at ``now``, in French, one line each; nothing is changed."""
    with app.db.sessions() as session:
        ids = raw_due(app, session, now)
    planned = anonymise.plan(app, now)
    lines = [f"{len(ids)} message(s) brut(s) à détruire"
             + (f" (n° {', '.join(map(str, ids[:20]))}{' …' if len(ids) > 20 else ''})" if ids else "")]
    lines.append(f"{len(planned)} inscription(s) à anonymiser "
                 f"(résolues ou clôturées depuis plus de {app.config.intake.anonymise_after_months} mois)")
    lines.extend(f"  {p.ref} : {'résolue' if p.status == EntryStatus.RESOLVED else 'clôturée'} "
                 f"le {p.done_at:%d/%m/%Y}" for p in planned)
    return lines


def run(app: App, now: dt.datetime) -> str:
    """Destroy the raw bytes that have outlived their use, anonymise old outcomes; say how many."""
    with app.db.transaction() as session:
        ids = raw_due(app, session, now)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            session.execute(update(InboundMessage).where(InboundMessage.id.in_(chunk))
                            .values(raw=None, raw_destroyed_at=now))
        if ids:
            audit.record(session, actor="job:retention", action="inbound.raw_destroyed",
                         object_type="inbound", after={"count": len(ids)}, at=now)
    anonymised = anonymise.apply(app, now)
    return f"{len(ids)} message(s) brut(s) détruit(s), {anonymised} inscription(s) anonymisée(s)"


JOB = register(Job("retention", "détruit les messages bruts devenus inutiles, anonymise les "
                   "inscriptions closes depuis longtemps (RGPD)", "30 3 * * *", run))
