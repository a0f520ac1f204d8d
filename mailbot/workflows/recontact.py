"""A patient answers the monthly question: OUI, NON, or something a human must read.

:func:`handle_recontact_reply` is ``HANDLERS["R"]`` of
:mod:`mailbot.workflows.replies`, which has already checked that the token
exists, is not expired and is bound to the very address the answer comes
from. Here:

* ``yes`` (still looking) → ``confirmed_at`` and « confirmé par le patient le
  jj/mm/aaaa » in the history; the round closes; the entry leaves the call list;
* ``no`` (found a doctor) → ``resolved``, reason « a trouvé un médecin »
  (the doctor's name, when given, in the history);
* ``stop`` (« ne m'écrivez plus », STOP) → opt-out: no more recontact mails
  for this entry (``recontact_opt_out_at``, history, audit); the round closes;
  the coordinators are told (they decide about the registration);
* ``unclear`` → escalated, its new text kept on the round for the digest;
  an out-of-office written as plain text is recorded and ignored;
* an answer for an entry closed meanwhile, or contradicting an earlier
  answer to the same round, is escalated.

Every answer keeps the rule and evidence that read it (inbound mail and
history, see :mod:`mailbot.workflows.reply_decision`). A decided answer
gets one short thank-you per round (``auto-replied``, so the
hourly cap applies), never with health data.
"""

from __future__ import annotations

from mailbot.clock import fr_date
from mailbot.outbound.mailer import enqueue_mail
from mailbot.workflows import reply_decision
from mailbot.workflows.base import Outcome, Work, escalate, processed
from parsers.quoting import new_text
from parsers.replies import PatientReply, classify_patient_reply
from store import addresses, calls, recontact
from store.alerts import raise_alert
from store.models import OPEN_STATUSES, Entry, InboundState, Token
from store.models_recontact import CallOutcome, RecontactRound, RoundOutcome

# Why an answer was not decided, in the coordinators' words (``reason`` codes of parsers.replies).
UNCLEAR_LABELS: dict[str, str] = {
    "stop_request": "demande à ne plus être contacté(e)",
    "deceased": "décès signalé",
    "moved": "déménagement signalé",
    "institution": "entrée en établissement signalée",
    "wrong_person": "le destinataire dit ne pas être le patient",
    "several_people": "réponse pour plusieurs personnes",
    "hedged": "réponse hésitante",
    "preference": "préférence à lire",
    "contradictory": "réponse contradictoire",
    "removal_request": "demande de retrait de la liste",
    "question": "question posée",
    "acknowledgement": "simple accusé de lecture",
}
_TEXT_KEPT = 4000


def _label(reply: PatientReply) -> str:
    return UNCLEAR_LABELS.get(reply.reason, "réponse à lire")


def _round_of(work: Work, token: Token) -> RecontactRound | None:
    """The round the answer belongs to: the token's mail, else the entry's open round."""
    assert token.entry_id is not None
    found = recontact.round_of_message(work.session, [token.outbox_message_id or ""])
    return found or recontact.open_round(work.session, token.entry_id)


def _record_answer(rnd: RecontactRound | None, work: Work, reply: PatientReply,
                   outcome: RoundOutcome, text: str | None = None) -> None:
    if rnd is None:
        return
    rnd.answered_at = work.now
    rnd.answer_inbound_id = work.row.id
    rnd.answer_reason = reply.reason[:40]
    rnd.answer_text = text[:_TEXT_KEPT] if text else None
    rnd.doctor_name = reply.doctor_name
    rnd.outcome = outcome
    rnd.closed_at = rnd.closed_at or work.now


def _thank(work: Work, token: Token, entry: Entry, rnd: RecontactRound | None,
           template: str) -> None:
    """One thank-you per round, to the address that answered (no health data)."""
    cfg = work.app.config.recontact
    if not cfg.acknowledge_answers or (rnd is not None and rnd.acknowledged):
        return
    # The « inscription close » thank-you carries a token of its own, so that "it was a
    # mistake" written back to it reaches the coordinators with the entry attached.
    enqueue_mail(work.app, work.session, kind="recontact_ack", to=token.recipient,
                 template=template, now=work.now, health_data=False, thread=work.thread,
                 entry_id=entry.id, inbound_id=work.row.id,
                 token_kind="R" if template == "recontact_ack_no" else None,
                 token_ttl_days=cfg.token_ttl_days,
                 context={"entry": entry, "today": fr_date(work.now),
                          "interval_days": cfg.interval_days})
    if rnd is not None:
        rnd.acknowledged = True


def _stop(work: Work, token: Token, entry: Entry, rnd: RecontactRound | None,
          reply: PatientReply) -> Outcome:
    """An opt-out is honoured whatever the entry's state: no more recontact mails, ever."""
    token.used_at = work.now
    if rnd is not None and rnd.closed_at is None:
        _record_answer(rnd, work, reply, RoundOutcome.STOP)
    calls.close_for_entry(work.session, entry.id, CallOutcome.ANSWERED_BY_MAIL, now=work.now,
                          by=work.actor)
    recontact.opt_out(work.session, entry, now=work.now, by="le patient",
                      inbound_id=work.row.id, actor=work.actor)
    raise_alert(work.session, kind="recontact_opt_out", now=work.now, entry_id=entry.id,
                inbound_message_id=work.row.id,
                reason="le patient demande à ne plus recevoir de messages : plus aucun "
                       "recontact ne lui sera envoyé")
    return processed("demande à ne plus être contacté(e) : recontact arrêté",
                     kind="recontact_stop", entry_id=entry.id)


def handle_recontact_reply(work: Work, token: Token) -> Outcome:
    """Apply a patient's answer to the recontact question (see the module docstring)."""
    session = work.session
    entry = (session.get(Entry, token.entry_id, with_for_update=work.app.db.is_postgres,
                         populate_existing=True)
             if token.entry_id else None)
    if entry is None:
        return escalate("jeton de recontact sans inscription", kind="reply_orphan")
    addresses.record_success(session, token.recipient, now=work.now, entry_id=entry.id,
                             inbound_id=work.row.id, actor=work.actor)
    body = work.body
    reply = classify_patient_reply(body)  # reads the new text only (quoting stripped)
    text = new_text(body)
    rnd = _round_of(work, token)
    if reply.reason == "auto_reply":  # an absence notice without RFC 3834 headers
        if rnd is not None:
            rnd.auto_replies = (rnd.auto_replies or 0) + 1
        return Outcome(InboundState.IGNORED, "réponse automatique", "auto_reply", entry.id)
    reply_decision.record(work, question="recontact", outcome=reply.answer, rule=reply.reason,
                          evidence=reply.evidence, entry=entry)
    if reply.answer == "stop":
        return _stop(work, token, entry, rnd, reply)
    if entry.status not in OPEN_STATUSES:
        return escalate(f"réponse au recontact pour une inscription {entry.status}",
                        kind="recontact_late", entry_id=entry.id)
    previous = rnd.outcome if rnd is not None and rnd.answered_at is not None else None
    if previous in (RoundOutcome.YES, RoundOutcome.NO):
        if previous == reply.answer:
            return processed("réponse déjà enregistrée", kind="recontact_repeat",
                             entry_id=entry.id)
        return escalate("nouvelle réponse différente de la précédente", kind="recontact_changed",
                        entry_id=entry.id)
    token.used_at = work.now
    if reply.answer == "unclear":
        _record_answer(rnd, work, reply, RoundOutcome.UNCLEAR, text)
        return escalate(f"réponse au recontact à lire : {_label(reply)}",
                        kind="recontact_unclear", entry_id=entry.id)
    asked = entry.status in work.app.config.recontact.statuses
    if reply.answer == "no" and not asked:  # a proposal or a match is under way
        _record_answer(rnd, work, reply, RoundOutcome.UNCLEAR, text)
        return escalate(f"le patient dit avoir trouvé un médecin (inscription {entry.status})",
                        kind="recontact_found_busy", entry_id=entry.id)
    calls.close_for_entry(session, entry.id, CallOutcome.ANSWERED_BY_MAIL, now=work.now,
                          by=work.actor)
    if reply.answer == "yes":
        _record_answer(rnd, work, reply, RoundOutcome.YES)
        note = recontact.confirm(session, entry, now=work.now, by="le patient",
                                 inbound_id=work.row.id, actor=work.actor)
        _thank(work, token, entry, rnd, "recontact_ack_yes")
        return processed(note, kind="recontact_yes", entry_id=entry.id)
    _record_answer(rnd, work, reply, RoundOutcome.NO)
    recontact.resolve_found(session, entry, now=work.now, by="le patient",
                            doctor_name=reply.doctor_name, inbound_id=work.row.id, actor=work.actor)
    _thank(work, token, entry, rnd, "recontact_ack_no")
    return processed(recontact.FOUND_REASON, kind="recontact_no", entry_id=entry.id)
