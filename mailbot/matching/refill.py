"""A GP's slot freed by his NON, offered again at once.

A NON puts the entry back to ``waiting`` and offers the GP his next compatible
entry (:func:`fill_slots`), or tells him his NON is recorded.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.matching.offer import gp_context
from mailbot.matching.round import fill_slots, gp_slots
from mailbot.outbound.mailer import Thread, enqueue_mail
from store.models import Entry
from store.models_matching import GP

log = logging.getLogger(__name__)

def refill(app: App, session: Session, gp: GP, entry: Entry, proposal_id: int,
           now: dt.datetime, *, reason: str | None, actor: str, inbound_id: int | None,
           thread: Thread | None) -> int:
    """Count the GP's free slots now and fill them at once; with no new proposal, tell him
    his NON is recorded. Return how many proposals were made.

    At once, not at the end of the batch: a later mail of the same batch (his PAUSE, a
    priority changed, a new referral) must act on what this NON already did, as when the
    mails come one by one (a deferred refill broke that: tests/test_simulation.py).
    """
    fill = fill_slots(app, session, gp, now, gp_slots(app, session, gp, now),
                      kind="after_decline", actor=actor, inbound_id=inbound_id)
    if not fill.proposals:
        enqueue_mail(app, session, kind="proposal_declined", to=gp.email,
                     template="proposal_declined", now=now, health_data=True, thread=thread,
                     entry_id=entry.id, inbound_id=inbound_id,
                     context={**gp_context(gp), "entry": entry, "reason": reason,
                              "limited_by": fill.limited_by})
    log.info("proposal %s declined: entry %s waiting, %d new proposal(s)", proposal_id,
             entry.ref, len(fill.proposals))
    return len(fill.proposals)
