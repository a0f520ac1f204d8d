"""``followup``: "devenu médecin traitant ?" — questions, one reminder, then no answer.

A follow-up answered « pas encore » (*pending*) is asked again once its
``followup_next_at`` has come (a new question, the entry still ``matched``).
"""

from __future__ import annotations

import datetime as dt

from mailbot.app import App
from mailbot.jobs import Job, register
from mailbot.jobs.proposals import BATCH
from mailbot.workflows.followup import ask, cancel, give_up, remind
from store import appends
from store import proposals as proposal_store
from store.models import Entry, EntryStatus
from store.models_matching import FollowupState


def run(app: App, now: dt.datetime) -> str:
    """Ask GPs matched long enough ago; remind once; give up after the delay."""
    cfg = app.config.matching
    accepted_before = now - dt.timedelta(days=cfg.followup_after_days)
    asked = 0
    while True:
        with app.db.transaction() as session:
            appends.enable(session)
            due = proposal_store.followups_to_ask(session, accepted_before=accepted_before,
                                                  limit=BATCH)
            for proposal in due:
                ask(app, session, proposal, now)
        asked += len(due)
        if len(due) < BATCH:
            break
    reminded = given_up = cancelled = again = 0
    remind_after = dt.timedelta(days=cfg.followup_reminder_days)
    expiry = dt.timedelta(days=cfg.followup_expiry_days)
    with app.db.transaction() as session:
        appends.enable(session)
        for proposal in proposal_store.pending_followups(session):
            entry = session.get(Entry, proposal.entry_id)
            assert entry is not None
            if entry.status != EntryStatus.MATCHED:
                cancel(session, proposal, now)
                cancelled += 1
            elif proposal.followup_next_at is None or proposal.followup_next_at <= now:
                ask(app, session, proposal, now)
                again += 1
        for proposal in proposal_store.open_followups(session):
            entry = session.get(Entry, proposal.entry_id)
            assert entry is not None and proposal.followup_asked_at is not None
            if entry.status != EntryStatus.MATCHED:
                cancel(session, proposal, now)
                cancelled += 1
            elif proposal.followup_state == FollowupState.ASKED:
                if proposal.followup_asked_at + remind_after <= now:
                    remind(app, session, proposal, now)
                    reminded += 1
            else:
                assert proposal.followup_reminded_at is not None
                deadline = max(proposal.followup_asked_at + expiry,
                               proposal.followup_reminded_at + expiry - remind_after)
                if deadline <= now:
                    give_up(app, session, proposal, now)
                    given_up += 1
    return (f"{asked} question(s), {again} reposée(s) après « pas encore », {reminded} "
            f"relance(s), {given_up} sans réponse, {cancelled} annulée(s)")


JOB = register(Job("followup", "demande aux médecins s'ils sont devenus médecin traitant",
                   "30 9 * * *", run))
