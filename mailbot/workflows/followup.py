"""After a match: "Êtes-vous devenu le médecin traitant de ce patient ?"

``followup_after_days`` after the GP accepted, he is asked (token ``S``);
one reminder after ``followup_reminder_days``; without an answer after
``followup_expiry_days`` the entry goes back to ``waiting`` and the
coordinators are told. OUI → entry ``resolved``; NON → ``waiting`` at its
rank, coordinators told in their digest. « Pas encore » (*pending*: not
seen yet, appointment on the 12th, seen but not declared) → the question is
asked again the day after the day named, or ``followup_pending_days`` later;
the entry stays ``matched`` (no requeue). Anything else is escalated with the
rule that read it (:mod:`mailbot.workflows.reply_decision`).
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.orm import Session

from mailbot.app import App
from mailbot.clock import PARIS, fr_date, local_date
from mailbot.matching.offer import (
    FOLLOWUP_TOKEN,
    PROPOSAL_TOKEN,
    TOKEN_GRACE_DAYS,
    close_tokens,
    first_message_id,
    gp_context,
)
from mailbot.outbound.mailer import Thread, enqueue_mail
from mailbot.workflows import reply_decision
from mailbot.workflows.base import Outcome, Work, escalate, processed
from mailbot.workflows.gp_mail import COMMAND_INTENTS, run_command
from parsers.people import person_name
from parsers.replies import classify_gp_reply
from store import entries
from store import proposals as proposal_store
from store.alerts import raise_alert
from store.models import Entry, EntryStatus, Token
from store.models_matching import OPEN_FOLLOWUP_STATES, FollowupState, Proposal

log = logging.getLogger(__name__)

RESOLUTION = "devenu médecin traitant (médecin de la CPTS, RPPS {rpps})"


def _ask(app: App, session: Session, proposal: Proposal, entry: Entry, now: dt.datetime, *,
         reminder: bool) -> None:
    cfg = app.config.matching
    asked = proposal.followup_asked_at or now
    deadline = asked + dt.timedelta(days=cfg.followup_expiry_days)
    if reminder:  # a late reminder still leaves the usual time to answer
        after = dt.timedelta(days=cfg.followup_expiry_days - cfg.followup_reminder_days)
        deadline = max(deadline, now + after)
    under = FOLLOWUP_TOKEN if reminder else PROPOSAL_TOKEN  # the question, or the proposal
    ttl = (deadline - now).total_seconds() / 86400.0 + TOKEN_GRACE_DAYS
    enqueue_mail(app, session, kind="followup_reminder" if reminder else "followup",
                 to=proposal.gp.email, template="followup_reminder" if reminder else "followup",
                 now=now, health_data=True, token_kind=FOLLOWUP_TOKEN, token_ttl_days=ttl,
                 entry_id=entry.id, object_id=proposal.id, auto_submitted="auto-generated",
                 thread=Thread(message_id=first_message_id(session, proposal, under)),
                 context={**gp_context(proposal.gp), "entry": entry, "patient": _patient(entry),
                          "accepted_on": fr_date(proposal.decided_at or now),
                          "deadline": fr_date(deadline)})


def _patient(entry: Entry) -> str:
    """How the GP knows the patient he accepted (he received the identity then)."""
    name = person_name(entry.nom, entry.prenom)
    return f"{name}, né(e) le {fr_date(entry.date_naissance)}" if entry.date_naissance else name


def ask(app: App, session: Session, proposal: Proposal, now: dt.datetime) -> None:
    """Ask the GP whether he became the patient's médecin traitant."""
    entry = session.get(Entry, proposal.entry_id)
    assert entry is not None
    proposal_store.set_followup(session, proposal, FollowupState.ASKED, now=now, actor="system")
    _ask(app, session, proposal, entry, now, reminder=False)


def remind(app: App, session: Session, proposal: Proposal, now: dt.datetime) -> None:
    """The one reminder of an unanswered follow-up."""
    entry = session.get(Entry, proposal.entry_id)
    assert entry is not None
    proposal_store.set_followup(session, proposal, FollowupState.REMINDED, now=now, actor="system")
    _ask(app, session, proposal, entry, now, reminder=True)


def give_up(app: App, session: Session, proposal: Proposal, now: dt.datetime) -> None:
    """No answer after the reminder: entry back to ``waiting``, coordinators told."""
    entry = session.get(Entry, proposal.entry_id, with_for_update=app.db.is_postgres,
                        populate_existing=True)
    assert entry is not None
    proposal_store.set_followup(session, proposal, FollowupState.NO_ANSWER, now=now, actor="system")
    close_tokens(session, proposal, FOLLOWUP_TOKEN, now)
    if entry.status == EntryStatus.MATCHED:
        entries.set_status(session, entry, EntryStatus.WAITING, now=now, actor="system",
                           reason="suivi sans réponse du médecin : remis en attente")
    raise_alert(session, kind="followup_no_answer", now=now, entry_id=entry.id,
                subject_ref=proposal.gp.rpps,
                reason=f"{proposal.gp.display_name} n'a pas dit s'il est devenu le médecin "
                       "traitant ; le patient est remis en attente à son rang (à vérifier)")


def cancel(session: Session, proposal: Proposal, now: dt.datetime) -> None:
    """The entry left ``matched`` another way (closed, resolved by the patient): stop asking."""
    proposal_store.set_followup(session, proposal, FollowupState.CANCELLED, now=now, actor="system")
    close_tokens(session, proposal, FOLLOWUP_TOKEN, now)


def _ack(work: Work, proposal: Proposal, entry: Entry, became: bool,
         next_at: dt.datetime | None = None) -> None:
    enqueue_mail(work.app, work.session, kind="followup_ack", to=proposal.gp.email,
                 template="followup_ack", now=work.now, health_data=True, thread=work.thread,
                 entry_id=entry.id, inbound_id=work.row.id,
                 context={**gp_context(proposal.gp), "entry": entry, "became": became,
                          "next_on": fr_date(next_at) if next_at else None})


def next_question_at(app: App, now: dt.datetime, day: dt.date | None) -> dt.datetime:
    """When a *pending* follow-up is asked again: 09:00 the day after ``day``, else later."""
    cfg = app.config.matching
    latest = now + dt.timedelta(days=cfg.followup_pending_max_days)
    if day is None:
        return now + dt.timedelta(days=cfg.followup_pending_days)
    moment = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9, 0), tzinfo=PARIS)
    return min(max(moment.astimezone(dt.UTC), now + dt.timedelta(days=1)), latest)


def _pending(work: Work, proposal: Proposal, entry: Entry, day: dt.date | None) -> Outcome:
    next_at = next_question_at(work.app, work.now, day)
    proposal_store.set_followup(work.session, proposal, FollowupState.PENDING, now=work.now,
                                actor=work.actor, inbound_id=work.row.id, next_at=next_at)
    _ack(work, proposal, entry, False, next_at)
    log.info("follow-up of proposal %s: pending", proposal.id)
    return processed(f"suivi : pas encore, question reposée le {fr_date(next_at)}",
                     kind="followup_pending", entry_id=entry.id)


def handle_followup_reply(work: Work, token: Token) -> Outcome:
    """The GP's answer to "devenu médecin traitant ?" (token kind ``S``)."""
    session = work.session
    proposal = session.get(Proposal, token.object_id) if token.object_id else None
    if proposal is None:
        return escalate("jeton de suivi sans proposition", kind="reply_orphan",
                        entry_id=token.entry_id)
    entry = session.get(Entry, proposal.entry_id, with_for_update=work.app.db.is_postgres,
                        populate_existing=True)
    assert entry is not None
    answer = classify_gp_reply(work.body, context="followup", today=local_date(work.now))
    if answer.intent in COMMAND_INTENTS:
        return run_command(work, proposal.gp, answer)
    reply_decision.record(work, question="followup", outcome=answer.intent, rule=answer.rule,
                          evidence=answer.evidence, entry=entry, proposal=proposal)
    if answer.intent not in ("became_mt", "not_mt", "pending"):
        return escalate("réponse du médecin au suivi à lire : "
                        + reply_decision.RULE_LABELS.get(answer.rule, "non comprise"),
                        kind="followup_unclear", entry_id=entry.id)
    became = answer.intent == "became_mt"
    still_open = proposal.followup_state in OPEN_FOLLOWUP_STATES or (
        proposal.followup_state == FollowupState.PENDING)
    if not still_open or entry.status != EntryStatus.MATCHED:
        return escalate(f"réponse au suivi alors que l'inscription est {entry.status}",
                        kind="followup_closed", entry_id=entry.id)
    if answer.intent == "pending":
        return _pending(work, proposal, entry, answer.date)
    state = FollowupState.BECAME_MT if became else FollowupState.NOT_MT
    proposal_store.set_followup(session, proposal, state, now=work.now, actor=work.actor,
                                inbound_id=work.row.id)
    close_tokens(session, proposal, FOLLOWUP_TOKEN, work.now)
    if became:
        entries.set_status(session, entry, EntryStatus.RESOLVED, now=work.now, actor=work.actor,
                           reason=RESOLUTION.format(rpps=proposal.gp.rpps), inbound_id=work.row.id)
    else:
        entries.set_status(session, entry, EntryStatus.WAITING, now=work.now, actor=work.actor,
                           reason="le médecin n'est pas devenu médecin traitant : remis en attente",
                           inbound_id=work.row.id)
        raise_alert(session, kind="followup_not_mt", now=work.now, entry_id=entry.id,
                    subject_ref=proposal.gp.rpps, inbound_message_id=work.row.id,
                    reason=f"{proposal.gp.display_name} n'est pas devenu le médecin traitant ; "
                           "le patient est remis en attente à son rang")
    _ack(work, proposal, entry, became)
    log.info("follow-up of proposal %s: %s", proposal.id, state.value)
    return processed("suivi : " + ("devenu médecin traitant" if became else "pas devenu MT"),
                     kind="followup_" + state.value, entry_id=entry.id)
