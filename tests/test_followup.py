"""After a match: "devenu médecin traitant ?" — answers, reminder, no answer (both backends)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mailbot.jobs.schedule import run_job
from mailbot.matching.round import run_round
from mailbot.stats.groups import resolution_way
from store.models import Alert, Entry, EntryStatus, InboundMessage
from store.models_matching import Proposal
from store.proposals import figures_by_gp
from tests.helpers import Bot, body_of
from tests.test_matching_support import T0, add_entry, add_gp, gp_email, reply, token_in

ACCEPTED = T0 + dt.timedelta(hours=1)  # 09:00 in Paris


def _matched(bot: Bot) -> None:
    """One entry proposed to GP 1, who says OUI."""
    with bot.app.db.transaction() as session:
        add_gp(session, 1)
        add_entry(session, 1, received=T0 - dt.timedelta(days=60))
    run_round(bot.app, T0)
    bot.run_once()
    [proposal] = bot.sent()
    bot.drop(reply(gp_email(1), "Oui", subject=f"RE: {proposal['Subject']}",
                   message_id="yes@medecin.mssante.fr"))
    bot.clock.frozen = ACCEPTED
    assert dict(bot.run_once().states) == {"processed": 1}
    assert _entry(bot).status == EntryStatus.MATCHED


def _entry(bot: Bot) -> Entry:
    with bot.app.db.sessions() as session:
        entry = session.scalars(select(Entry)).one()
        session.expunge(entry)
        return entry


def _proposal(bot: Bot) -> Proposal:
    with bot.app.db.sessions() as session:
        proposal = session.scalars(select(Proposal)).one()
        session.expunge(proposal)
        return proposal


def _alerts(bot: Bot) -> list[str]:
    with bot.app.db.sessions() as session:
        return [a.kind for a in session.scalars(select(Alert).order_by(Alert.id))]


def _followup_job(bot: Bot, at: str) -> str:
    return bot.cli("jobs", "run", "followup", "--at", at).stdout


def _answer(bot: Bot, question: object, text: str, when: dt.datetime) -> dict[str, int]:
    bot.drop(reply(gp_email(1), text, subject=f"Re: {question['Subject']}",  # type: ignore[index]
                   message_id=f"followup-{when.timestamp()}@medecin.mssante.fr",
                   in_reply_to=question["Message-ID"]))  # type: ignore[index]
    bot.clock.frozen = when
    return dict(bot.run_once().states)


def test_gp_became_mt_resolves_the_entry(bot: Bot) -> None:
    _matched(bot)
    assert "0 question(s)" in _followup_job(bot, "2026-12-01T09:30")  # 29 days: too early
    assert "1 question(s)" in _followup_job(bot, "2026-12-02T09:30")
    question = bot.sent()[-1]
    assert token_in(question["Subject"], "S")
    body = body_of(question)
    assert "PATIENT1 Marie" in body and "02/11/2026" in body and "OUI" in body
    assert _answer(bot, question, "Oui c'est fait, déclaration faite.\n\nDr GP1",
                   T0 + dt.timedelta(days=31)) == {"processed": 1}
    entry = _entry(bot)
    assert entry.status == EntryStatus.RESOLVED and entry.resolved_at is not None
    assert resolution_way(entry.resolution) == "matched_by_gp"
    assert _proposal(bot).followup_state == "became_mt"
    assert "Réponse enregistrée" in bot.sent()[-1]["Subject"]
    assert _alerts(bot) == []
    with bot.app.db.sessions() as session:  # what statistics read (acceptance rate per GP)
        [figures] = figures_by_gp(session)
    assert (figures.proposed, figures.accepted, figures.became_mt, figures.pending) == (1, 1, 1, 0)
    assert figures.acceptance_rate == 1.0


def test_gp_not_mt_puts_the_entry_back_and_tells_coordinators(bot: Bot) -> None:
    _matched(bot)
    received = _entry(bot).received_at
    _followup_job(bot, "2026-12-02T09:30")
    question = bot.sent()[-1]
    assert _answer(bot, question, "Non, il ne s'est jamais présenté.",
                   T0 + dt.timedelta(days=31)) == {"processed": 1}
    entry = _entry(bot)
    assert entry.status == EntryStatus.WAITING and entry.received_at == received
    assert _proposal(bot).followup_state == "not_mt"
    assert _alerts(bot) == ["followup_not_mt"]
    # The coordinators read it in their next digest.
    assert "synthèse envoyée" in bot.cli("jobs", "run", "digest", "--at", "2026-12-04T08:00").stdout
    digest = bot.sent()[-1]
    assert digest["To"] == "coordination@cpts-exemple.mssante.fr"
    body = body_of(digest)
    assert "Médecins qui ne sont pas devenus médecin traitant" in body and entry.ref in body
    assert "n'est pas devenu le médecin traitant" in body
    # Never proposed again to the same GP.
    with bot.app.db.transaction() as session:
        add_gp(session, 2)
    run_round(bot.app, T0 + dt.timedelta(days=32))
    with bot.app.db.sessions() as session:
        gps = [p.gp.email for p in session.scalars(select(Proposal).order_by(Proposal.id))]
    assert gps == [gp_email(1), gp_email(2)]


def test_silence_gets_one_reminder_then_the_entry_goes_back_to_waiting(bot: Bot) -> None:
    _matched(bot)
    _followup_job(bot, "2026-12-02T09:30")
    assert "0 relance(s)" in _followup_job(bot, "2026-12-08T09:30")
    out = _followup_job(bot, "2026-12-09T09:30")
    assert "1 relance(s), 0 sans réponse" in out
    assert "Rappel" in bot.sent()[-1]["Subject"]
    assert "0 sans réponse" in _followup_job(bot, "2026-12-15T09:30")
    assert "1 sans réponse" in _followup_job(bot, "2026-12-16T09:30")
    assert _entry(bot).status == EntryStatus.WAITING
    assert _proposal(bot).followup_state == "no_answer"
    assert _alerts(bot) == ["followup_no_answer"]
    bot.cli("jobs", "run", "digest", "--at", "2026-12-17T08:00")
    body = body_of(bot.sent()[-1])
    assert _entry(bot).ref in body and "n'a pas dit s'il est devenu le médecin traitant" in body


def test_unclear_followup_answer_is_escalated(bot: Bot) -> None:
    _matched(bot)
    run_job(bot.app, "followup", at=T0 + dt.timedelta(days=30, hours=2))
    bot.run_once()
    question = bot.sent()[-1]
    assert _answer(bot, question, "Je ne sais pas encore, rendez-vous la semaine prochaine ?",
                   T0 + dt.timedelta(days=31)) == {"escalated": 1}
    assert _entry(bot).status == EntryStatus.MATCHED
    with bot.app.db.sessions() as session:
        kinds = [r.kind for r in session.scalars(select(InboundMessage).order_by(InboundMessage.id))]
    assert kinds[-1] == "followup_unclear"


def test_followup_stops_when_the_entry_is_closed_meanwhile(bot: Bot) -> None:
    _matched(bot)
    run_job(bot.app, "followup", at=T0 + dt.timedelta(days=30, hours=2))
    with bot.app.db.transaction() as session:
        from store import entries

        entry = session.scalars(select(Entry)).one()
        entries.set_status(session, entry, EntryStatus.CLOSED, now=T0 + dt.timedelta(days=31),
                           reason="déménagé", actor="test")
    run_job(bot.app, "followup", at=T0 + dt.timedelta(days=32))
    assert _proposal(bot).followup_state == "cancelled"
    assert _entry(bot).status == EntryStatus.CLOSED
