"""Proposals: the GP's OUI / NON, the mise en relation, reminders, expiry and withdrawal.

* OUI → entry ``matched``: the GP receives the patient's identity, phone and
  the referrer's contact (MSSanté); the patient receives the practice's
  name, address and phone on the patient route — nothing medical — or, with
  no e-mail address, a coordinator is asked to phone (``patient_to_call``).
* NON → entry back to ``waiting`` at its rank, coordinators told, and the GP's
  freed slot offered to the next compatible entry.
* Anything else → escalated, the proposal stays open.

:func:`propose` is the public entry point for a coordinator's forced
proposal (``PROPOSER E-xxxx A <rpps>``).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.clock import fr_date, local_date
from mailbot.errors import UsageError
from mailbot.matching.contact import gp_identity_context, practice_context
from mailbot.matching.offer import (
    PROPOSAL_TOKEN,
    close_tokens,
    first_message_id,
    gp_context,
    make_proposal,
    send_proposal_mail,
)
from mailbot.matching.policy import explain
from mailbot.matching.pool import compatible
from mailbot.matching.refill import refill
from mailbot.matching.round import gp_usage, lock_gps
from mailbot.outbound.mailer import Thread, enqueue_mail
from mailbot.workflows import reply_decision
from mailbot.workflows.base import Outcome, Work, escalate, processed
from mailbot.workflows.gp_mail import COMMAND_INTENTS, run_command
from parsers.replies import classify_gp_reply
from store import entries
from store import proposals as proposal_store
from store.alerts import raise_alert
from store.models import Entry, EntryStatus, Token
from store.models_matching import GP, Proposal, ProposalState

log = logging.getLogger(__name__)


class ProposalError(UsageError):
    """A proposal that cannot be made (entry not waiting, GP paused…), said for a coordinator."""


def propose(app: App, session: Session, entry: Entry, gp: GP, now: dt.datetime, actor: str,
            *, forced: bool = True, inbound_id: int | None = None) -> Proposal:
    """Propose ``entry`` to ``gp`` now, in the caller's transaction.

    ``forced`` (a coordinator's decision) skips the priority order, the
    criteria, the capacity and the mix rule, and says so in the explanation;
    the entry must still be ``waiting`` and the GP not paused. Raises
    :class:`ProposalError` with a French reason otherwise.
    """
    if entry.status != EntryStatus.WAITING:
        raise ProposalError(f"{entry.ref} n'est pas en attente (état : {entry.status})")
    if not gp.accepting:
        raise ProposalError(f"le médecin RPPS {gp.rpps} est en pause (commande REPRISE pour reprendre)")
    if not forced:
        if not compatible(gp, entry, local_date(now)):
            raise ProposalError(f"{entry.ref} ne correspond pas aux critères du médecin RPPS {gp.rpps}")
        if gp_usage(app, session, gp, now).used_this_month >= gp.capacity_per_month:
            raise ProposalError(f"le médecin RPPS {gp.rpps} a atteint sa capacité du mois")
    why = {**explain(app.config.matching, entry, now), "kind": "forced" if forced else "manual",
           "forced": forced, "actor": actor, "gp": gp.rpps}
    return make_proposal(app, session, entry, gp, now, kind="forced" if forced else "manual",
                         explanation=why, actor=actor, inbound_id=inbound_id)


def withdraw(app: App, session: Session, entry: Entry, now: dt.datetime, actor: str,
             *, reason: str = "le patient n'a plus besoin de cette proposition") -> Proposal | None:
    """Cancel the entry's open proposal (entry closed or resolved meanwhile) and tell the GP.

    Call it before or after changing the entry's status; the entry's status
    is left alone. Returns the cancelled proposal, if there was one.
    """
    proposal = proposal_store.pending_for_entry(session, entry.id)
    if proposal is None:
        return None
    proposal_store.set_state(session, proposal, ProposalState.CANCELLED, now=now, actor=actor,
                             reason=reason)
    close_tokens(session, proposal, PROPOSAL_TOKEN, now)
    enqueue_mail(app, session, kind="proposal_withdrawn", to=proposal.gp.email,
                 template="proposal_withdrawn", now=now, health_data=True, entry_id=entry.id,
                 thread=Thread(message_id=first_message_id(session, proposal)),
                 auto_submitted="auto-generated",
                 context={**gp_context(proposal.gp), "entry": entry,
                          "proposed_on": fr_date(proposal.created_at)})
    return proposal


# ---------------------------------------------------------------- answers


def accept(app: App, session: Session, proposal: Proposal, entry: Entry, now: dt.datetime, *,
           actor: str, inbound_id: int | None = None, thread: Thread | None = None) -> None:
    """The GP said OUI: entry ``matched``, contact details to both sides."""
    gp = proposal.gp
    proposal_store.set_state(session, proposal, ProposalState.ACCEPTED, now=now, actor=actor,
                             inbound_id=inbound_id)
    close_tokens(session, proposal, PROPOSAL_TOKEN, now)
    entries.set_status(session, entry, EntryStatus.MATCHED, now=now, actor=actor,
                       reason=f"proposition {proposal.id} acceptée par le médecin RPPS {gp.rpps}",
                       inbound_id=inbound_id)
    enqueue_mail(app, session, kind="match_gp", to=gp.email, template="match_gp", now=now,
                 health_data=True, thread=thread, entry_id=entry.id, inbound_id=inbound_id,
                 context={**gp_context(gp), **gp_identity_context(entry), "entry": entry,
                          "followup_days": int(app.config.matching.followup_after_days)})
    if entry.email:
        enqueue_mail(app, session, kind="match_patient", to=entry.email, template="match_patient",
                     now=now, health_data=False, entry_id=entry.id, inbound_id=inbound_id,
                     auto_submitted="auto-generated",
                     context={"entry": entry, **practice_context(gp)})
    else:
        raise_alert(session, kind="patient_to_call", now=now, entry_id=entry.id,
                    subject_ref=gp.rpps,
                    reason=f"mise en relation avec {gp.display_name} : patient sans e-mail, "
                           "lui téléphoner pour lui donner les coordonnées du cabinet")
    log.info("proposal %s accepted: entry %s matched", proposal.id, entry.ref)


def decline(app: App, session: Session, proposal: Proposal, entry: Entry, now: dt.datetime, *,
            reason: str | None, actor: str, inbound_id: int | None = None,
            thread: Thread | None = None) -> int:
    """The GP said NON: entry back to ``waiting`` at its rank; next entry offered to him.

    Returns how many new proposals the GP received (:mod:`mailbot.matching.refill`).
    """
    gp = proposal.gp
    proposal_store.set_state(session, proposal, ProposalState.DECLINED, now=now, actor=actor,
                             reason=reason or "", inbound_id=inbound_id)
    close_tokens(session, proposal, PROPOSAL_TOKEN, now)
    entries.set_status(session, entry, EntryStatus.WAITING, now=now, actor=actor,
                       reason=f"proposition {proposal.id} déclinée par le médecin",
                       inbound_id=inbound_id)
    why = f" (motif : {reason})" if reason else ""
    raise_alert(session, kind="proposal_declined", now=now, entry_id=entry.id, subject_ref=gp.rpps,
                inbound_message_id=inbound_id,
                reason=f"proposition déclinée par {gp.display_name}{why} ; "
                       "le patient reste en attente à son rang")
    return refill(app, session, gp, entry, proposal.id, now, reason=reason, actor=actor,
                  inbound_id=inbound_id, thread=thread)


def handle_proposal_reply(work: Work, token: Token) -> Outcome:
    """A GP's answer to a proposal (token kind ``P``)."""
    session = work.session
    proposal = session.get(Proposal, token.object_id) if token.object_id else None
    if proposal is None:
        return escalate("jeton de proposition sans proposition", kind="reply_orphan",
                        entry_id=token.entry_id)
    lock_gps(session, [proposal.gp_id])  # GP before entry, as the round and DEMANDE do
    entry = session.get(Entry, proposal.entry_id, with_for_update=work.app.db.is_postgres,
                        populate_existing=True)
    assert entry is not None
    answer = classify_gp_reply(work.body, context="proposal")
    if answer.intent in COMMAND_INTENTS:
        return run_command(work, proposal.gp, answer)
    reply_decision.record(work, question="proposal", outcome=answer.intent, rule=answer.rule,
                          evidence=answer.evidence, entry=entry, proposal=proposal)
    if proposal.state != ProposalState.PENDING:
        if proposal.state == ProposalState.ACCEPTED and answer.intent == "accept":
            return processed("acceptation déjà enregistrée", kind="proposal_repeat",
                             entry_id=entry.id)
        return escalate(f"réponse à une proposition déjà close ({proposal.state})",
                        kind="proposal_closed", entry_id=entry.id)
    if answer.intent == "unclear":
        return escalate("réponse du médecin à une proposition à lire : "
                        + reply_decision.RULE_LABELS.get(answer.rule, "non comprise"),
                        kind="proposal_unclear", entry_id=entry.id)
    if entry.status != EntryStatus.PROPOSED:
        proposal_store.set_state(session, proposal, ProposalState.CANCELLED, now=work.now,
                                 actor=work.actor, inbound_id=work.row.id,
                                 reason=f"inscription passée à l'état {entry.status}")
        return escalate(f"réponse à une proposition dont l'inscription est {entry.status}",
                        kind="proposal_entry_changed", entry_id=entry.id)
    if answer.intent == "accept":
        accept(work.app, session, proposal, entry, work.now, actor=work.actor,
               inbound_id=work.row.id, thread=work.thread)
        return processed("proposition acceptée", kind="proposal_accepted", entry_id=entry.id)
    if answer.intent == "decline":
        decline(work.app, session, proposal, entry, work.now, reason=answer.reason,
                actor=work.actor, inbound_id=work.row.id, thread=work.thread)
        return processed("proposition déclinée", kind="proposal_declined", entry_id=entry.id)
    return escalate("réponse du médecin à une proposition non comprise",
                    kind="proposal_unclear", entry_id=entry.id)


# ---------------------------------------------------------------- no answer


def remind(app: App, session: Session, proposal: Proposal, now: dt.datetime) -> None:
    """One reminder for an unanswered proposal (a new mail, threaded under the first).

    The GP keeps at least the configured time between reminder and expiry,
    even when the reminder is late (the job did not run for a while).
    """
    entry = session.get(Entry, proposal.entry_id)
    assert entry is not None
    cfg = app.config.matching
    proposal.reminded_at = now
    after = dt.timedelta(days=cfg.proposal_expiry_days - cfg.proposal_reminder_days)
    proposal.expires_at = max(proposal.expires_at, now + after)
    send_proposal_mail(app, session, proposal, entry, proposal.gp, now, reminder=True)


def expire(app: App, session: Session, proposal: Proposal, now: dt.datetime) -> None:
    """No answer in time: proposal expired, entry back to ``waiting`` at its rank."""
    entry = session.get(Entry, proposal.entry_id, with_for_update=app.db.is_postgres,
                        populate_existing=True)
    assert entry is not None
    proposal_store.set_state(session, proposal, ProposalState.EXPIRED, now=now, actor="system")
    close_tokens(session, proposal, PROPOSAL_TOKEN, now)
    if entry.status == EntryStatus.PROPOSED:
        entries.set_status(session, entry, EntryStatus.WAITING, now=now, actor="system",
                           reason=f"proposition {proposal.id} sans réponse du médecin")
    raise_alert(session, kind="proposal_expired", now=now, entry_id=entry.id,
                subject_ref=proposal.gp.rpps,
                reason=f"proposition sans réponse de {proposal.gp.display_name} malgré une "
                       "relance ; le patient reste en attente à son rang")
