"""Reply outcomes of issue 15 end to end: follow-up *pending*, recontact opt-out, rule and evidence kept."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mailbot.clock import PARIS
from mailbot.matching.round import run_round
from store.models import Alert, AuditRecord, Entry, EntryStatus, InboundMessage
from store.models_matching import Proposal
from tests.helpers import Bot, body_of
from tests.recontact_support import (
    ASK,
    PATIENT,
    add_entry,
    entry,
    last_inbound,
    receive,
    recontact,
    rounds,
    sent_to,
)
from tests.recontact_support import reply_to as patient_reply_to
from tests.test_matching_support import T0, add_gp, gp_email, reply
from tests.test_matching_support import add_entry as add_matching_entry

ACCEPTED = T0 + dt.timedelta(hours=1)
ANSWERED = dt.datetime(2026, 12, 3, 10, 0, tzinfo=PARIS)  # a Thursday


def _matched(bot: Bot) -> None:
    with bot.app.db.transaction() as session:
        add_gp(session, 1)
        add_matching_entry(session, 1, received=T0 - dt.timedelta(days=60))
    run_round(bot.app, T0)
    bot.run_once()
    [proposal] = bot.sent()
    bot.drop(reply(gp_email(1), "Oui\n\nEnvoyé de mon iPhone", subject=f"RE: {proposal['Subject']}",
                   message_id="yes@medecin.mssante.fr"))
    bot.clock.frozen = ACCEPTED
    assert dict(bot.run_once().states) == {"processed": 1}


def _proposal(bot: Bot) -> Proposal:
    with bot.app.db.sessions() as session:
        proposal = session.scalars(select(Proposal)).one()
        session.expunge(proposal)
        return proposal


def _entry(bot: Bot) -> Entry:
    with bot.app.db.sessions() as session:
        found = session.scalars(select(Entry)).one()
        session.expunge(found)
        return found


def _answer(bot: Bot, question: object, text: str, when: dt.datetime) -> dict[str, int]:
    bot.drop(reply(gp_email(1), text, subject=f"Re: {question['Subject']}",  # type: ignore[index]
                   message_id=f"followup-{when.timestamp()}@medecin.mssante.fr",
                   in_reply_to=question["Message-ID"]))  # type: ignore[index]
    bot.clock.frozen = when
    return dict(bot.run_once().states)


def _job(bot: Bot, at: str) -> str:
    return bot.cli("jobs", "run", "followup", "--at", at).stdout


def test_proposal_decision_keeps_its_rule_and_evidence(bot: Bot) -> None:
    _matched(bot)
    row = last_inbound(bot)
    assert (row.decision_rule, row.decision_evidence) == ("accept_word", "oui")
    shown = bot.cli("entries", "show", _entry(bot).ref).stdout
    assert "réponse lue (proposition) : accepte — règle : acceptation explicite — « oui »" in shown


def test_pending_with_a_date_asks_again_the_day_after_without_requeue(bot: Bot) -> None:
    _matched(bot)
    assert "1 question(s)" in _job(bot, "2026-12-02T09:30")
    question = bot.sent()[-1]
    text = "Premier RDV annulé, reporté au 15 décembre.\n\nDr GP1\nMédecin généraliste"
    assert _answer(bot, question, text, ANSWERED) == {"processed": 1}
    proposal = _proposal(bot)
    assert proposal.followup_state == "pending"
    assert proposal.followup_next_at == dt.datetime(2026, 12, 16, 9, 0, tzinfo=PARIS)
    assert _entry(bot).status == EntryStatus.MATCHED  # no requeue
    ack = bot.sent()[-1]
    assert "nous vous reposerons la question le 16/12/2026" in body_of(ack)
    assert last_inbound(bot).kind == "followup_pending"
    with bot.app.db.sessions() as session:
        [audit] = session.scalars(select(AuditRecord).where(
            AuditRecord.action == "followup.pending")).all()
        assert audit.after is not None and audit.after["next"].startswith("2026-12-16T08:00")
        assert session.scalars(select(Alert)).all() == []
    shown = bot.cli("entries", "show", _entry(bot).ref).stdout
    assert "réponse lue (suivi) : pas encore" in shown and "« reporte »" in shown
    # Nothing asked before the day; on it, a new question; the usual flow then applies.
    assert "0 reposée(s)" in _job(bot, "2026-12-15T09:30")
    sent = len(bot.sent())
    assert "1 reposée(s)" in _job(bot, "2026-12-16T09:30")
    bot.run_once()
    assert len(bot.sent()) == sent + 1
    again = bot.sent()[-1]
    assert "devenu son médecin traitant" in again["Subject"]
    assert _proposal(bot).followup_state == "asked"
    assert _answer(bot, again, "Oui, déclaration faite.", ANSWERED + dt.timedelta(days=14)) == {
        "processed": 1}
    assert _entry(bot).status == EntryStatus.RESOLVED


def test_pending_without_a_date_waits_the_configured_delay(bot: Bot) -> None:
    _matched(bot)
    _job(bot, "2026-12-02T09:30")
    question = bot.sent()[-1]
    assert _answer(bot, question, "Vu en consultation, pas encore déclaré.", ANSWERED) == {
        "processed": 1}
    days = bot.app.config.matching.followup_pending_days
    assert _proposal(bot).followup_next_at == ANSWERED + dt.timedelta(days=days)


def test_hedged_followup_is_escalated_and_the_digest_says_why(bot: Bot) -> None:
    _matched(bot)
    _job(bot, "2026-12-02T09:30")
    question = bot.sent()[-1]
    assert _answer(bot, question, "Je crois que oui, il faudrait que je regarde.", ANSWERED) == {
        "escalated": 1}
    row = last_inbound(bot)
    assert row.kind == "followup_unclear" and row.decision_rule == "hedged"
    assert _entry(bot).status == EntryStatus.MATCHED
    assert "synthèse envoyée" in bot.cli("jobs", "run", "digest", "--at", "2026-12-04T08:00").stdout
    body = body_of(bot.sent()[-1])
    assert "règle : réponse hésitante — « je crois »" in body


def test_stop_is_an_opt_out_honoured_and_audited(bot: Bot) -> None:
    ref = add_entry(bot)
    recontact(bot, ASK)
    [question] = sent_to(bot, PATIENT)
    text = "Ne m'écrivez plus s'il vous plaît.\n\nEnvoyé de mon iPhone"
    assert receive(bot, patient_reply_to(question, text), ASK + dt.timedelta(days=1)) == {
        "processed": 1}
    row = last_inbound(bot)
    assert row.kind == "recontact_stop" and row.decision_rule == "stop_request"
    found = entry(bot, ref)
    assert found.recontact_opt_out_at is not None and found.status == EntryStatus.WAITING
    assert [r.outcome for r in rounds(bot, ref)] == ["stop"]
    with bot.app.db.sessions() as session:
        actions = list(session.scalars(select(AuditRecord.action)))
        alerts = list(session.scalars(select(Alert.kind)))
    assert "entry.recontact_opt_out" in actions and alerts == ["recontact_opt_out"]
    assert len(sent_to(bot, PATIENT)) == 1  # no thank-you either
    shown = bot.cli("entries", "show", ref).stdout
    assert "Recontact arrêté le 02/12/2026" in shown
    # Months later: never asked again, nor put on the call list.
    for months in (1, 2, 3):
        recontact(bot, ASK + dt.timedelta(days=31 * months))
    assert len(sent_to(bot, PATIENT)) == 1
    with bot.app.db.sessions() as session:
        assert session.scalars(select(InboundMessage).where(
            InboundMessage.kind == "recontact_stop")).one().entry_id == found.id
