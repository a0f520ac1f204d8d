"""A GP's slot freed by his NON, offered again at once.

A NON puts the entry back to ``waiting`` and offers the GP his next compatible
entry (:func:`fill_slots`), or tells him his NON is recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.matching.offer import gp_context
from mailbot.matching.pool import Pool
from mailbot.matching.round import Fill, Slots, fill_slots, gp_slots
from mailbot.outbound.mailer import Thread, enqueue_mail
from store.models import Entry
from store.models_matching import GP

log = logging.getLogger(__name__)

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
           thread: Thread | None) -> int:
    """Count the GP's free slots now and fill them at once; return how many proposals were
    made.

    At once, not at the end of the batch: a later mail of the same batch (his PAUSE, a
    priority changed, a new referral) must act on what this NON already did, as when the
    mails come one by one (a deferred refill broke that: tests/test_simulation.py).
    """
    item = Refill(gp, gp_slots(app, session, gp, now), entry, proposal_id, now, reason, actor,
                  inbound_id, thread)
    return len(refill_now(app, session, item).proposals)
