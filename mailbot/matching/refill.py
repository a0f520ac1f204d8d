"""A GP's slot freed by his NON, offered again: at once, or for a whole batch of mails at its end.

A NON puts the entry back to ``waiting`` and offers the GP his next compatible
entry (:func:`fill_gp`). Read from the mailbox, GPs' answers come by batches;
refilling each GP as his NON is read would read the waiting list once per NON.
Within a batch (:mod:`store.deferred`) the refills wait for the
batch's last mail, then take their entries, in the order of the mails, from one
reading of the waiting list. Each GP gets what a refill at his mail's turn
would give him: an entry declined by a later mail of the batch, waiting by
then, is not offered to an earlier one.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.matching.offer import gp_context
from mailbot.matching.pool import Pool
from mailbot.matching.round import fill_gp
from mailbot.outbound.mailer import Thread, enqueue_mail
from store import deferred, transaction_state
from store.models import Entry
from store.models_matching import GP

log = logging.getLogger(__name__)

_NAME = "deferred_refills"  # [Refill, …] waiting for the end of the batch


@dataclass(frozen=True)
class Refill:
    """One NON to follow up: the GP, the declined proposal's entry, and who acted when."""

    gp: GP
    entry: Entry
    proposal_id: int
    now: dt.datetime
    reason: str | None
    actor: str
    inbound_id: int | None
    thread: Thread | None


def refill_now(app: App, session: Session, item: Refill, pool: Pool | None = None,
               later: frozenset[int] = frozenset()) -> int:
    """Offer the GP his next entries; with none, tell him his NON is recorded. How many made.

    ``pool`` and ``later``: see :func:`fill_gp`.
    """
    fill = fill_gp(app, session, item.gp, item.now, kind="after_decline", actor=item.actor,
                   inbound_id=item.inbound_id, pool=pool, later=later)
    if not fill.proposals:
        enqueue_mail(app, session, kind="proposal_declined", to=item.gp.email,
                     template="proposal_declined", now=item.now, health_data=True,
                     thread=item.thread, entry_id=item.entry.id, inbound_id=item.inbound_id,
                     context={**gp_context(item.gp), "entry": item.entry, "reason": item.reason,
                              "limited_by": fill.limited_by})
    log.info("proposal %s declined: entry %s waiting, %d new proposal(s)", item.proposal_id,
             item.entry.ref, len(fill.proposals))
    return len(fill.proposals)


def refill(app: App, session: Session, item: Refill) -> int | None:
    """:func:`refill_now`, or at the end of the batch when the pipeline defers (``None``)."""
    queue: list[Refill] | None = transaction_state.get(session, _NAME)
    if session.in_nested_transaction():
        return refill_now(app, session, item)
    if queue is None:
        fresh: list[Refill] = []
        if not deferred.later(session, lambda: _run(app, session, fresh)):
            return refill_now(app, session, item)
        queue = transaction_state.setdefault(session, _NAME, lambda: fresh)
    queue.append(item)
    return None


def _run(app: App, session: Session, queue: list[Refill]) -> None:
    """Every deferred refill, in order, from one reading of the waiting list."""
    items = list(queue)
    queue.clear()
    if not items:
        return
    session.flush()  # the declined entries are waiting again: the pool must see them
    codes = {area.code_postal for item in items for area in item.gp.areas}
    pool = Pool.load(session, app.config.matching, items[0].now, codes)
    for turn, item in enumerate(items):
        refill_now(app, session, item, pool,
                   later=frozenset(after.entry.id for after in items[turn + 1:]))
