"""``proposals``: the scheduled round; ``proposals_expiry``: reminders, expiries, withdrawals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.jobs import Job, register
from mailbot.matching.round import run_round
from mailbot.workflows.proposals import expire, remind, withdraw
from store import appends
from store import proposals as proposal_store
from store.models import Entry
from store.models_matching import Proposal

BATCH = 200  # proposals handled per transaction


def run(app: App, now: dt.datetime) -> str:
    """Offer every accepting GP with free slots his best compatible entries."""
    return run_round(app, now).summary()


def _each(app: App, due: Callable[[Session], Sequence[Proposal]],
          act: Callable[[Session, Proposal], None]) -> int:
    """Apply ``act`` to every proposal ``due`` returns, ``BATCH`` per transaction."""
    done = 0
    while True:
        with app.db.transaction() as session:
            appends.enable(session)
            batch = list(due(session))[:BATCH]
            for proposal in batch:
                act(session, proposal)
        done += len(batch)
        if len(batch) < BATCH:
            return done


def run_expiry(app: App, now: dt.datetime) -> str:
    """Withdraw proposals whose entry left ``proposed``, expire, then remind."""
    cfg = app.config.matching

    def withdraw_one(session: Session, proposal: Proposal) -> None:
        entry = session.get(Entry, proposal.entry_id)
        assert entry is not None
        withdraw(app, session, entry, now, "system",
                 reason=f"inscription passée à l'état {entry.status}")

    withdrawn = _each(app, lambda s: proposal_store.orphans(s, limit=BATCH), withdraw_one)
    expired = _each(app, lambda s: proposal_store.due_expiries(s, now=now, limit=BATCH),
                    lambda s, p: expire(app, s, p, now))
    before = now - dt.timedelta(days=cfg.proposal_reminder_days)
    reminded = _each(app, lambda s: proposal_store.due_reminders(s, created_before=before, limit=BATCH),
                     lambda s, p: remind(app, s, p, now))
    return f"{reminded} relance(s), {expired} expirée(s), {withdrawn} retirée(s)"


JOB = register(Job("proposals", "propose les patients en attente aux médecins disponibles",
                   "0 8 * * 1-5", run))
EXPIRY_JOB = register(Job("proposals_expiry",
                          "relance puis expire les propositions sans réponse",
                          "0 9 * * *", run_expiry))
