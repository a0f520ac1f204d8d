"""A GP's slot freed by his NON, offered again: at once, or for a whole batch of mails at its end.

A NON puts the entry back to ``waiting`` and offers the GP his next compatible
entry (:func:`fill_gp`). Read from the mailbox, GPs' answers come by batches;
refilling each GP as his NON is read would read the waiting list once per NON.
Within a batch (:mod:`store.deferred`) the refills wait for the
batch's last mail, then take their entries, in the order of the mails, from one
reading of the waiting list. Each GP gets what a refill at his mail's turn
would give him: his free slots are counted at his NON (with the refills already
waiting for him), and an entry declined by a later mail of the batch, waiting
by then, is not offered to an earlier one.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.matching.offer import gp_context
from mailbot.matching.pool import Pool, proposed_before
from mailbot.matching.round import Fill, Slots, fill_slots, gp_slots
from mailbot.outbound.mailer import Thread, enqueue_mail
from store import deferred, transaction_state
from store.models import Entry
from store.models_matching import GP

log = logging.getLogger(__name__)

_NAME = "deferred_refills"  # [Refill, …] waiting for the end of the batch


@dataclass(frozen=True)
class Refill:
    """One NON to follow up: the GP, his free slots then, the declined proposal's entry."""

    gp: GP
    slots: Slots
    entry: Entry
    proposal_id: int
    now: dt.datetime
    reason: str | None
    actor: str
    inbound_id: int | None
    thread: Thread | None


def refill_now(app: App, session: Session, item: Refill, pool: Pool | None = None,
               later: frozenset[int] = frozenset(), complex_taken: int = 0,
               proposed: set[int] | None = None) -> Fill:
    """Offer the GP his next entries; with none, tell him his NON is recorded.

    ``pool``, ``later``, ``complex_taken`` and ``proposed``: see :func:`fill_slots`.
    """
    fill = fill_slots(app, session, item.gp, item.now, item.slots, kind="after_decline",
                      actor=item.actor, inbound_id=item.inbound_id, pool=pool, later=later,
                      complex_taken=complex_taken, proposed=proposed)
    if not fill.proposals:
        enqueue_mail(app, session, kind="proposal_declined", to=item.gp.email,
                     template="proposal_declined", now=item.now, health_data=True,
                     thread=item.thread, entry_id=item.entry.id, inbound_id=item.inbound_id,
                     context={**gp_context(item.gp), "entry": item.entry, "reason": item.reason,
                              "limited_by": fill.limited_by})
    log.info("proposal %s declined: entry %s waiting, %d new proposal(s)", item.proposal_id,
             item.entry.ref, len(fill.proposals))
    return fill


def refill(app: App, session: Session, gp: GP, entry: Entry, proposal_id: int,
           now: dt.datetime, *, reason: str | None, actor: str, inbound_id: int | None,
           thread: Thread | None) -> int | None:
    """Count the GP's free slots now and fill them: at once, or at the end of the batch when
    the pipeline defers (then ``None``); else how many proposals were made."""
    queue: list[Refill] | None = transaction_state.get(session, _NAME)
    nested = session.in_nested_transaction()
    waiting = sum(item.slots.free for item in queue or [] if item.gp.id == gp.id) \
        if not nested else 0
    item = Refill(gp, gp_slots(app, session, gp, now, pending=waiting), entry, proposal_id, now,
                  reason, actor, inbound_id, thread)
    if nested:
        return len(refill_now(app, session, item).proposals)
    if queue is None:
        fresh: list[Refill] = []
        if not deferred.later(session, lambda: _run(app, session, fresh)):
            return len(refill_now(app, session, item).proposals)
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
    # Read once for every GP: what this run proposes is taken from the pool besides.
    proposed = proposed_before(session, {item.gp.id for item in items})
    complex_taken: dict[int, int] = {}  # GP id → complex situations proposed in this run
    for turn, item in enumerate(items):
        fill = refill_now(app, session, item, pool,
                          later=frozenset(after.entry.id for after in items[turn + 1:]),
                          complex_taken=complex_taken.get(item.gp.id, 0),
                          proposed=proposed[item.gp.id])
        complex_taken[item.gp.id] = complex_taken.get(item.gp.id, 0) \
            + sum(1 for proposal in fill.proposals if proposal.complex)
