"""Proposals end to end: round job (real CLI), GP answers by mail, mise en relation (both backends)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mailbot.matching.offer import first_message_id
from mailbot.workflows.proposals import ProposalError, propose, withdraw
from store import gps
from store.models import Alert, Entry, EntryStatus, InboundMessage, OutboxMessage
from store.models_matching import GP, Proposal, ProposalState
from tests.helpers import EXAMPLES, Bot, body_of
from tests.test_matching_support import (
    DAC,
    T0,
    add_entry,
    add_gp,
    gp_email,
    reply,
    rpps,
    token_in,
)

AT = "2026-11-02T08:00"  # T0 in Paris time


def _setup(bot: Bot, *, entries: int = 2, email: str | None = "", **gp_values: object) -> None:
    with bot.app.db.transaction() as session:
        add_gp(session, 1, **gp_values)
        for n in range(entries):
            add_entry(session, n, received=T0 - dt.timedelta(days=45 - n), email=email,
                      birth=dt.date(1948, 3, 12), ald=True)


def _round(bot: Bot, at: str = AT) -> str:
    return bot.cli("jobs", "run", "proposals", "--at", at).stdout


def _entry(bot: Bot, n: int) -> Entry:
    with bot.app.db.sessions() as session:
        entry = session.scalars(select(Entry).where(Entry.nom == f"PATIENT{n}")).one()
        session.expunge(entry)
        return entry


def _alerts(bot: Bot) -> list[str]:
    with bot.app.db.sessions() as session:
        return [a.kind for a in session.scalars(select(Alert).order_by(Alert.id))]


def _states(bot: Bot) -> list[str]:
    with bot.app.db.sessions() as session:
        return [str(p.state) for p in session.scalars(select(Proposal).order_by(Proposal.id))]


def _answer(bot: Bot, proposal_mail: object, body: str, *, sender: str = gp_email(1),
            n: int = 1, when: dt.datetime = T0 + dt.timedelta(hours=4)) -> dict[str, int]:
    subject = proposal_mail["Subject"]  # type: ignore[index]
    bot.drop(reply(sender, body, subject=f"RE: {subject}", message_id=f"answer-{n}@medecin.mssante.fr",
                   in_reply_to=proposal_mail["Message-ID"]))  # type: ignore[index]
    bot.clock.frozen = when
    return dict(bot.run_once().states)


def test_round_sends_a_pseudonymised_proposal_with_a_bound_token(bot: Bot) -> None:
    _setup(bot)
    out = _round(bot)
    assert "1 proposition(s) à 1 médecin(s)" in out
    [mail] = bot.sent()
    assert mail["To"] == gp_email(1)
    token = token_in(mail["Subject"])
    assert len(token) >= 13  # ≥ 64 random bits
    body = body_of(mail)
    first = _entry(bot, 0)  # the oldest registration comes first
    assert first.status == EntryStatus.PROPOSED and first.ref in body
    for shown in ("70-79 ans", "16000 Angoulême", "ALD", "45 jours", "DAC", "OUI", "NON", "PAUSE"):
        assert shown in body, shown
    for hidden in ("PATIENT0", "Marie", "06 12", "+336", "Roses", "1948", "diabète", "Martin"):
        assert hidden not in body and hidden not in mail["Subject"], hidden
    with bot.app.db.sessions() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "proposal")).one()
        assert row.health_data is True
        [proposal] = session.scalars(select(Proposal)).all()
        assert proposal.explanation["policy"] == "fifo" and proposal.explanation["rank"] == 1
        assert first_message_id(session, proposal) == mail["Message-ID"].strip()


def test_gp_accepts_as_in_example_03_and_both_sides_get_the_contacts(bot: Bot) -> None:
    _setup(bot)
    _round(bot)
    [proposal_mail] = bot.sent()
    example = (EXAMPLES / "03-gp-accepts.eml").read_text(encoding="utf-8")
    body = example.split("\n\n", 1)[1].replace("Dr Bernard", "Dr Bernard\n\nEnvoyé depuis mon iPhone")
    assert _answer(bot, proposal_mail, body) == {"processed": 1}
    entry = _entry(bot, 0)
    assert entry.status == EntryStatus.MATCHED
    assert _states(bot) == ["accepted"]
    to_gp, to_patient = bot.sent()[1:]
    assert to_gp["To"] == gp_email(1) and to_gp["In-Reply-To"] == "<answer-1@medecin.mssante.fr>"
    gp_body = body_of(to_gp)
    for shown in ("PATIENT0", "Marie", "12/03/1948", "06 12 34 56 78", "Mme Martin", "DAC 16", DAC):
        assert shown in gp_body, shown
    assert to_patient["To"] == "patient0@example.org"
    patient_body = body_of(to_patient) + to_patient["Subject"]
    for shown in ("Dr Paul GP1", "Cabinet 1", "1 rue des Lilas", "05 45 12 34 56", entry.ref):
        assert shown in patient_body, shown
    for hidden in ("ALD", "diabète", "DAC", "Martin", "généraliste", "critère"):
        assert hidden not in patient_body, hidden
    with bot.app.db.sessions() as session:
        kinds = {r.kind: r.health_data for r in session.scalars(select(OutboxMessage))}
    assert kinds == {"proposal": True, "match_gp": True, "match_patient": False}


def test_accepted_patient_without_email_goes_on_the_call_list(bot: Bot) -> None:
    _setup(bot, entries=1, email=None)
    _round(bot)
    _answer(bot, bot.sent()[0], "OUI")
    assert _entry(bot, 0).status == EntryStatus.MATCHED
    assert [m["To"] for m in bot.sent()] == [gp_email(1), gp_email(1)]
    assert _alerts(bot) == ["patient_to_call"]


def test_decline_keeps_the_rank_and_offers_the_next_entry(bot: Bot) -> None:
    _setup(bot, entries=2)
    _round(bot)
    before = _entry(bot, 0)
    assert _answer(bot, bot.sent()[0], "Non, je suis complet ce mois-ci.\n\nCordialement\nDr GP1") \
        == {"processed": 1}
    after = _entry(bot, 0)
    assert after.status == EntryStatus.WAITING and after.received_at == before.received_at
    assert _entry(bot, 1).status == EntryStatus.PROPOSED
    with bot.app.db.sessions() as session:
        first = session.scalars(select(Proposal).order_by(Proposal.id)).first()
        assert first is not None and first.decline_reason == "je suis complet ce mois-ci"
    assert _alerts(bot) == ["proposal_declined"]
    second = bot.sent()[1]
    assert "[CPTS-P-" in second["Subject"] and "autre proposition" in body_of(second)
    # The declined entry goes to another GP at the next round, first in line.
    with bot.app.db.transaction() as session:
        add_gp(session, 2)
    _round(bot, "2026-11-03T08:00")
    with bot.app.db.sessions() as session:
        last = session.scalars(select(Proposal).order_by(Proposal.id.desc())).first()
        assert last is not None and last.entry_id == before.id and last.gp.rpps == rpps(2)


def test_decline_without_another_candidate_is_acknowledged(bot: Bot) -> None:
    _setup(bot, entries=1)
    _round(bot)
    _answer(bot, bot.sent()[0], "NON")
    ack = bot.sent()[1]
    assert "déclinée" in ack["Subject"] and "Aucun autre patient" in body_of(ack)


def test_unclear_answer_is_escalated_and_the_proposal_stays_open(bot: Bot) -> None:
    _setup(bot, entries=1)
    _round(bot)
    assert _answer(bot, bot.sent()[0], "Oui mais pas avant mars, rappelez-moi") == {"escalated": 1}
    assert _entry(bot, 0).status == EntryStatus.PROPOSED
    assert _states(bot) == ["pending"]
    with bot.app.db.sessions() as session:
        row = session.scalars(select(InboundMessage)).one()
        assert row.kind == "proposal_unclear"


def test_answer_from_another_address_is_not_accepted(bot: Bot) -> None:
    _setup(bot, entries=1)
    with bot.app.db.transaction() as session:
        add_gp(session, 2, accepting=False)
    _round(bot)
    proposal_mail = bot.sent()[0]
    assert _answer(bot, proposal_mail, "OUI", sender=gp_email(2)) == {"escalated": 1}
    assert _answer(bot, proposal_mail, "OUI", sender="someone@gmail.com", n=2) == {"quarantined": 1}
    assert _entry(bot, 0).status == EntryStatus.PROPOSED
    with bot.app.db.sessions() as session:
        kinds = [r.kind for r in session.scalars(select(InboundMessage).order_by(InboundMessage.id))]
    assert kinds == ["reply_wrong_sender", "unknown_sender"]


def test_no_answer_gets_one_reminder_then_expires_back_to_waiting(bot: Bot) -> None:
    _setup(bot, entries=1)
    _round(bot)
    first = bot.sent()[0]
    out = bot.cli("jobs", "run", "proposals_expiry", "--at", "2026-11-04T09:00").stdout
    assert "0 relance(s)" in out
    out = bot.cli("jobs", "run", "proposals_expiry", "--at", "2026-11-05T09:00").stdout
    assert "1 relance(s), 0 expirée(s)" in out
    reminder = bot.sent()[1]
    assert "Rappel" in reminder["Subject"] and reminder["In-Reply-To"] == first["Message-ID"].strip()
    assert token_in(reminder["Subject"]) != token_in(first["Subject"])
    out = bot.cli("jobs", "run", "proposals_expiry", "--at", "2026-11-06T09:00").stdout
    assert "0 relance(s), 0 expirée(s)" in out
    out = bot.cli("jobs", "run", "proposals_expiry", "--at", "2026-11-09T09:00").stdout
    assert "0 relance(s), 1 expirée(s)" in out
    assert _entry(bot, 0).status == EntryStatus.WAITING
    assert _states(bot) == ["expired"] and _alerts(bot) == ["proposal_expired"]
    late = _answer(bot, reminder, "OUI", when=T0 + dt.timedelta(days=8))
    assert late == {"escalated": 1}
    assert _entry(bot, 0).status == EntryStatus.WAITING


def test_entries_show_prints_why_the_entry_was_proposed(bot: Bot) -> None:
    bot_sections = bot.sections
    assert bot_sections  # the spec's minimal configuration: policy fifo
    _setup(bot, entries=2)
    _round(bot)
    ref = _entry(bot, 0).ref
    out = bot.cli("entries", "show", ref).stdout
    assert "Propositions :" in out
    assert "Dr Paul GP1" in out and rpps(1) in out and "en attente de réponse" in out
    assert "ordre d'inscription" in out and "rang 1 sur 2" in out and "45 j" in out


def test_gp_mail_commands_are_answered(bot: Bot) -> None:
    _setup(bot, entries=4, capacity_per_month=3)
    bot.clock.frozen = T0
    send = iter(range(100))

    def command(text: str, subject: str = "Commande") -> dict[str, int]:
        n = next(send)
        bot.drop(reply(gp_email(1), text, subject=subject, message_id=f"cmd-{n}@medecin.mssante.fr"))
        return dict(bot.run_once().states)

    def gp() -> GP:
        with bot.app.db.sessions() as session:
            found = gps.get_by_rpps(session, rpps(1))
            assert found is not None
            return found

    assert command("PAUSE\n\nDr GP1\nEnvoyé depuis mon iPhone") == {"processed": 1}
    assert gp().accepting is False and "suspendues" in bot.sent()[-1]["Subject"]
    assert "0 proposition(s) à 0 médecin(s)" in _round(bot)
    assert command("DEMANDE 1") == {"processed": 1}
    assert "écrivez d'abord REPRISE" in body_of(bot.sent()[-1])
    assert command("", subject="REPRISE") == {"processed": 1}
    assert gp().accepting is True and "reprises" in bot.sent()[-1]["Subject"]
    assert command("Bonjour, CAPACITE 2 merci") == {"processed": 1}
    assert gp().capacity_per_month == 2 and "2 patient(s)" in bot.sent()[-1]["Subject"]
    sent_before = len(bot.sent())
    assert command("DEMANDE 2") == {"processed": 1}
    new = bot.sent()[sent_before:]
    assert [token_in(m["Subject"]) != "" for m in new] == [True, True]  # the proposals only
    assert command("DEMANDE 3") == {"processed": 1}
    answer = bot.sent()[-1]
    assert "demande de 3" in answer["Subject"] and "capacité du mois" in body_of(answer)
    assert command("Pouvez-vous me rappeler au sujet de la liste ?") == {"escalated": 1}
    assert command("OUI") == {"escalated": 1}
    with bot.app.db.sessions() as session:
        kinds = [r.kind for r in session.scalars(select(InboundMessage).order_by(InboundMessage.id))]
    assert kinds == ["gp_pause", "gp_request", "gp_resume", "gp_capacity", "gp_request",
                     "gp_request", "gp_mail", "gp_reply_without_token"]


def test_pause_sent_in_answer_to_a_proposal_keeps_the_proposal_open(bot: Bot) -> None:
    _setup(bot, entries=1)
    _round(bot)
    assert _answer(bot, bot.sent()[0], "PAUSE") == {"processed": 1}
    assert _states(bot) == ["pending"]
    with bot.app.db.sessions() as session:
        gp = gps.get_by_rpps(session, rpps(1))
        assert gp is not None and gp.accepting is False
    assert "1 proposition(s) en cours" in body_of(bot.sent()[-1])


def test_forced_proposal_and_withdrawal_public_api(bot: Bot) -> None:
    now = T0
    with bot.app.db.transaction() as session:
        gp = add_gp(session, 1, age_bands=["0-5"])  # the entry (78 years) is outside his criteria
        paused = add_gp(session, 2, accepting=False)
        entry = add_entry(session, 1, received=T0 - dt.timedelta(days=3), birth=dt.date(1948, 3, 12))
        for args, message in (((entry, paused), "en pause"),):
            try:
                propose(bot.app, session, *args, now, "coordinator:test")
            except ProposalError as error:
                assert message in str(error)
            else:  # pragma: no cover
                raise AssertionError("a paused GP must be refused")
        try:
            propose(bot.app, session, entry, gp, now, "coordinator:test", forced=False)
        except ProposalError as error:
            assert "critères" in str(error)
        proposal = propose(bot.app, session, entry, gp, now, "coordinator:test")
        assert proposal.explanation["forced"] is True and proposal.kind == "forced"
        assert entry.status == EntryStatus.PROPOSED
        try:
            propose(bot.app, session, entry, gp, now, "coordinator:test")
        except ProposalError as error:
            assert "n'est pas en attente" in str(error)
        cancelled = withdraw(bot.app, session, entry, now, "coordinator:test")
        assert cancelled is proposal and proposal.state == ProposalState.CANCELLED
    bot.run_once()
    assert [("retirée" in m["Subject"]) for m in bot.sent()] == [False, True]
