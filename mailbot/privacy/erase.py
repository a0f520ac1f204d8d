"""``mailbot patient erase``: the right to erasure (art. 17), irreversible.

An open entry is first closed as a withdrawal (its proposal withdrawn, its call
item closed); then identity, contact and free text are removed everywhere, at
once, as the retention job does after the retention period. What remains is an
anonymous line for the statistics. The audit trail records the erasure with
counts only, and still verifies.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select

from mailbot.app import App
from mailbot.errors import UsageError
from mailbot.operations.context import OpContext, find_entry
from mailbot.operations.entries import close_entry
from mailbot.privacy.anonymise import scrub_entries
from store.models import OPEN_STATUSES, EntryEvent


def erase(app: App, ref: str, *, actor: str, now: dt.datetime) -> dict[str, int]:
    """Erase the person behind ``ref``; return how many rows of each kind were touched."""
    with app.db.transaction() as session:
        ctx = OpContext(app=app, session=session, actor=actor, now=now)
        entry = find_entry(ctx, ref)
        if session.scalar(select(exists().where(EntryEvent.entry_id == entry.id,
                                                EntryEvent.kind == "erased"))):
            raise UsageError(f"{entry.ref} est déjà effacée : il n'y a plus rien à effacer")
        if entry.status in OPEN_STATUSES:
            close_entry(ctx, entry, "retrait")
        session.flush()
        return scrub_entries(session, [entry], now=now, kind="erased", actor=actor)
