"""Monthly recontact end to end: the question, the answers, reminders and the call list (both backends)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from store import recontact as store_recontact
from store.models import Alert, EntryStatus, OutboxMessage, Token
from store.models_recontact import CallItem
from tests.helpers import Bot, body_of
from tests.recontact_support import (
    ASK,
    GIVE_UP,
    HEALTH_FIELDS,
    OWN,
    PATIENT,
    REGISTERED,
    REMIND,
    add_entry,
    answer,
    entry,
    last_inbound,
    paris,
    receive,
    recontact,
    reply_to,
    rounds,
    sent_to,
    token_of,
)

NEXT_DAY = ASK + dt.timedelta(days=1)


def test_round_asks_by_personal_mail_without_health_data_and_calls_those_without_email(
        bot: Bot) -> None:
    asked = add_entry(bot)
    no_email = add_entry(bot, email=None, nom="MARTIN", prenom="Paul")
    incomplete = add_entry(bot, email="x.incomplete@orange.fr", status=EntryStatus.INCOMPLETE,
                           nom="LEROY")
    proposed = add_entry(bot, email="y.proposed@orange.fr", status=EntryStatus.PROPOSED,
                         nom="PETIT")
    recent = add_entry(bot, email="z.recent@orange.fr", nom="ROUX",
                       registered=ASK - dt.timedelta(days=10))

    run = bot.cli("jobs", "run", "recontact", "--at", "2026-12-01T10:00")
    assert "1 question(s)" in run.stdout and "1 ajout(s) à la liste d'appels" in run.stdout
    assert "envois : 1 sent" in run.stdout

    [mail] = bot.sent()
    assert mail["To"] == PATIENT and OWN in mail["From"]
    assert "Êtes-vous toujours à la recherche d'un médecin traitant ?" in mail["Subject"]
    code = token_of(mail)
    assert len(code) >= 13  # ≥ 64 random bits
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["X-CPTS-Mailbot"] and mail["X-Auto-Response-Suppress"] == "All"
    body = body_of(mail)
    assert "Êtes-vous toujours à la recherche d'un médecin traitant ?" in body
    assert f"mailto:{OWN}?subject=OUI%20%5BCPTS-R-{code}%5D&body=OUI" in body
    assert f"mailto:{OWN}?subject=NON%20%5BCPTS-R-{code}%5D&body=NON" in body
    assert "STOP" in body and asked in body and "15/10/2026" in body
    # Nothing about health, the referrer or the criteria; not even the name.
    for secret in ("diabète", "cardio", "ALD", "Mobilité", "Lefèvre", "Sophie", "Bernard", "DAC",
                   "1948", "DURAND", "Marie", "+336", "06 12", "16000", "Angoulême"):
        assert secret not in body and secret not in str(mail["Subject"]), secret
    assert HEALTH_FIELDS["motif"] not in body

    with bot.app.db.sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.health_data is False and row.kind == "recontact"
        token = session.scalars(select(Token).where(Token.code == code)).one()
        assert token.kind == "R" and token.recipient == PATIENT
        assert token.entry_id == entry(bot, asked).id
    [first] = rounds(bot, asked)
    assert first.number == 1 and first.closed_at is None and first.address == PATIENT
    for ref in (incomplete, proposed, recent):
        assert rounds(bot, ref) == []
    listing = bot.cli("calls", "list")
    assert no_email in listing.stdout and "pas d'adresse e-mail" in listing.stdout
    assert asked not in listing.stdout


def test_oui_confirms_the_entry_and_thanks_once(bot: Bot) -> None:
    ref = add_entry(bot)
    recontact(bot, ASK)
    [question] = bot.sent()
    states = receive(bot, reply_to(question, "Oui, toujours.\n\nCordialement\nMarie"), NEXT_DAY)
    assert states == {"processed": 1}
    found = entry(bot, ref)
    assert found.status == EntryStatus.WAITING
    assert found.confirmed_at == NEXT_DAY.astimezone(dt.UTC)
    [note] = [e.detail["note"] for e in found.events if e.kind == "confirmed"]
    assert note == "confirmé par le patient le 02/12/2026"
    assert last_inbound(bot).kind == "recontact_yes"
    [round_] = rounds(bot, ref)
    assert round_.outcome == "yes" and round_.closed_at is not None
    thanks = sent_to(bot, PATIENT)[1]
    assert "restez inscrit" in thanks["Subject"] and thanks["Auto-Submitted"] == "auto-replied"
    assert thanks["In-Reply-To"] == last_inbound(bot).message_id.join("<>")
    assert "diabète" not in body_of(thanks)

    # The same answer again (a second click): recorded, never thanked twice.
    states = receive(bot, reply_to(question, "OUI"), NEXT_DAY + dt.timedelta(hours=2))
    assert states == {"processed": 1}
    assert last_inbound(bot).kind == "recontact_repeat"
    assert len(sent_to(bot, PATIENT)) == 2


def test_non_resolves_with_reason_and_keeps_the_doctors_name_in_history(bot: Bot) -> None:
    ref = add_entry(bot)
    recontact(bot, ASK)
    [question] = bot.sent()
    body = "Non merci, j'ai trouvé un médecin traitant, le Dr Martin à Soyaux."
    assert receive(bot, reply_to(question, body), NEXT_DAY) == {"processed": 1}
    found = entry(bot, ref)
    assert found.status == EntryStatus.RESOLVED
    assert found.resolution == "a trouvé un médecin"
    assert found.resolved_at == NEXT_DAY.astimezone(dt.UTC)
    [event] = [e for e in found.events if e.kind == "found_doctor"]
    assert event.detail["doctor_name"] == "Dr Martin"
    assert rounds(bot, ref)[0].doctor_name == "Dr Martin"
    thanks = sent_to(bot, PATIENT)[1]
    assert "close" in thanks["Subject"]
    assert "Martin" not in body_of(thanks)  # no health data on a personal mailbox
    exported = {r["ref"]: r for r in bot.export()}[ref]
    assert exported["status"] == "resolved" and exported["resolution"] == "a trouvé un médecin"
    # "It was a mistake", written back to the thank-you: the coordinators get it, with the entry.
    oops = reply_to(thanks, "C'était une erreur, je cherche toujours un médecin traitant.")
    assert receive(bot, oops, NEXT_DAY + dt.timedelta(hours=1)) == {"escalated": 1}
    row = last_inbound(bot)
    assert row.kind == "recontact_late" and row.entry_id == entry(bot, ref).id
    assert len(sent_to(bot, PATIENT)) == 2


def test_mailto_link_answer_without_threading_headers(bot: Bot) -> None:
    ref = add_entry(bot)
    recontact(bot, ASK)
    code = token_of(bot.sent()[0])
    mail = answer(PATIENT, "NON", subject=f"NON [CPTS-R-{code}]")
    assert receive(bot, mail, NEXT_DAY) == {"processed": 1}
    assert entry(bot, ref).status == EntryStatus.RESOLVED


def test_unclear_answers_are_escalated_with_their_text(bot: Bot) -> None:
    ref = add_entry(bot)
    other = add_entry(bot, email="paul.stop@orange.fr", nom="MARTIN", prenom="Paul")
    recontact(bot, ASK)
    question = sent_to(bot, PATIENT)[0]
    text = "Je ne sais pas trop, mon fils s'en occupe, rappelez-moi"
    assert receive(bot, reply_to(question, text), NEXT_DAY) == {"escalated": 1}
    row = last_inbound(bot)
    assert row.kind == "recontact_unclear" and row.entry_id == entry(bot, ref).id
    assert "réponse au recontact à lire" in (row.reason or "")
    [round_] = rounds(bot, ref)
    assert round_.outcome == "unclear" and text in (round_.answer_text or "")
    with bot.app.db.sessions() as session:  # what the digest shows next to the escalation
        answered = store_recontact.answer_of(session, row.id)
        assert answered is not None and answered.id == round_.id
    assert "a écrit" not in (round_.answer_text or "")  # only the new text is kept
    found = entry(bot, ref)
    assert found.status == EntryStatus.WAITING and found.confirmed_at is None
    assert len(sent_to(bot, PATIENT)) == 1  # no answer to an unclear mail

    # A later clear answer to the same round is still taken.
    assert receive(bot, reply_to(question, "OUI"), NEXT_DAY + dt.timedelta(hours=1)) == {
        "processed": 1}
    assert entry(bot, ref).confirmed_at is not None

    # STOP is an opt-out since issue 15: honoured at once, the coordinators told by an alert.
    stop = reply_to(sent_to(bot, "paul.stop@orange.fr")[0], "STOP", sender="paul.stop@orange.fr")
    assert receive(bot, stop, NEXT_DAY) == {"processed": 1}
    assert "ne plus être contacté" in (last_inbound(bot).reason or "")
    assert entry(bot, other).status == EntryStatus.WAITING
    assert entry(bot, other).recontact_opt_out_at is not None


def test_strangers_are_quarantined_and_foreign_addresses_escalated(bot: Bot) -> None:
    ref = add_entry(bot)
    recontact(bot, ASK)
    question = bot.sent()[0]
    code = token_of(question)
    stranger = "inconnu@laposte.net"

    # No token at all: as before, an unknown sender is quarantined.
    assert receive(bot, answer(stranger, "OUI", subject="Bonjour"), NEXT_DAY) == {"quarantined": 1}
    # A forged token (right shape, never issued): quarantined too.
    forged = answer(stranger, "NON", subject="NON [CPTS-R-ZZZZZZZZZZZZZZ]")
    assert receive(bot, forged, NEXT_DAY) == {"quarantined": 1}
    # A reply threaded on a mail of ours that carries no patient token: quarantined.
    assert receive(bot, answer(stranger, "NON", subject="Re: info",
                               in_reply_to="<nothing-we-know@cpts-exemple.mssante.fr>"),
                   NEXT_DAY) == {"quarantined": 1}
    # The real token, but from another address: a human decides, nothing changes.
    states = receive(bot, reply_to(question, "NON", sender=stranger), NEXT_DAY)
    assert states == {"escalated": 1}
    row = last_inbound(bot)
    assert row.kind == "reply_wrong_sender" and row.entry_id == entry(bot, ref).id
    assert entry(bot, ref).status == EntryStatus.WAITING
    assert (bot.inbox / ".Quarantine" / "cur").exists()
    assert sent_to(bot, stranger) == []
    # The bound address itself still gets through.
    assert receive(bot, answer(PATIENT, "NON", subject=f"NON [CPTS-R-{code}]"), NEXT_DAY) == {
        "processed": 1}
    assert entry(bot, ref).status == EntryStatus.RESOLVED


def test_partner_token_from_a_stranger_is_quarantined(bot: Bot) -> None:
    bot.drop_example("02-hospital-incomplete.eml")
    bot.run_once()
    [ack] = bot.sent()
    assert "[CPTS-C-" in ack["Subject"]
    mail = answer("inconnu@laposte.net", "Commune : Angoulême", subject=f"RE: {ack['Subject']}")
    assert receive(bot, mail, NEXT_DAY) == {"quarantined": 1}
    assert bot.export()[0]["status"] == "incomplete"


def test_reminder_then_call_list_then_late_answer(bot: Bot) -> None:
    ref = add_entry(bot)
    recontact(bot, ASK)
    recontact(bot, ASK + dt.timedelta(days=3))
    assert len(bot.sent()) == 1  # nothing before the reminder is due
    summary = recontact(bot, REMIND)
    assert "1 relance(s)" in summary
    question, reminder = bot.sent()
    assert reminder["Subject"].startswith("Rappel")
    assert token_of(reminder) != token_of(question)
    assert "par téléphone" in body_of(reminder) and "22/12/2026" not in body_of(reminder)
    assert "15/12/2026" in body_of(reminder)  # until when we wait
    assert "nous vous écrirons de nouveau" in body_of(question)

    summary = recontact(bot, GIVE_UP)
    assert "1 tour(s) sans réponse" in summary and "1 ajout(s) à la liste d'appels" in summary
    [round_] = rounds(bot, ref)
    assert round_.outcome == "no_answer" and round_.unanswered_streak == 1
    listing = bot.cli("calls", "list")
    assert ref in listing.stdout and "pas de réponse" in listing.stdout
    with bot.app.db.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.kind == "call_list")).one()
        assert alert.resolved_at is None and alert.entry_id == entry(bot, ref).id

    # Weeks later the patient answers the reminder: taken, and off the call list.
    late = GIVE_UP + dt.timedelta(days=5)
    assert receive(bot, reply_to(reminder, "oui"), late) == {"processed": 1}
    assert entry(bot, ref).confirmed_at is not None
    with bot.app.db.sessions() as session:
        item = session.scalars(select(CallItem)).one()
        assert item.outcome == "answered_by_mail" and item.closed_at is not None
        assert session.scalars(select(Alert).where(Alert.kind == "call_list")).one().resolved_at
    assert ref not in bot.cli("calls", "list").stdout


def test_nothing_is_sent_outside_the_window(bot: Bot) -> None:
    add_entry(bot)
    saturday = paris(2026, 12, 5, 10, 0)
    assert "hors fenêtre" in recontact(bot, saturday)
    assert "hors fenêtre" in recontact(bot, paris(2026, 12, 1, 19, 30))
    assert "hors fenêtre" in recontact(bot, paris(2026, 12, 1, 8, 59))
    assert bot.sent() == []
    recontact(bot, paris(2026, 12, 1, 9, 0))
    assert len(bot.sent()) == 1


def test_asked_again_only_after_the_interval(bot: Bot) -> None:
    ref = add_entry(bot)
    recontact(bot, ASK)
    receive(bot, reply_to(bot.sent()[0], "OUI"), NEXT_DAY)
    recontact(bot, paris(2026, 12, 22, 10, 0))
    assert len(sent_to(bot, PATIENT)) == 2  # question and thanks only
    recontact(bot, paris(2027, 1, 5, 10, 0))  # 30 days after the confirmation (02/12)
    mails = sent_to(bot, PATIENT)
    assert len(mails) == 3 and "Êtes-vous" in mails[-1]["Subject"]
    assert [r.number for r in rounds(bot, ref)] == [1, 2]


def test_incomplete_entries_are_asked_when_configured(tmp_path: Path,
                                                      database_section: dict[str, str]) -> None:
    bot = Bot.create(tmp_path, database_section,
                     extra={"recontact": {"statuses": ["waiting", "incomplete"],
                                          "reminder_after_days": 0,
                                          "unanswered_rounds_before_call": 2}})
    try:
        ref = add_entry(bot, status=EntryStatus.INCOMPLETE)
        recontact(bot, ASK)
        [first] = bot.sent()
        assert "nous vous reposerons la question le mois prochain" in body_of(first)
        recontact(bot, ASK + dt.timedelta(days=7))  # no reminder: the round closes unanswered
        assert [r.outcome for r in rounds(bot, ref)] == ["no_answer"]
        assert bot.cli("calls", "list", "--format", "json").stdout.strip() == "[]"
        recontact(bot, ASK + dt.timedelta(days=35))
        second = bot.sent()[-1]
        assert "par téléphone" in body_of(second)  # the last round before a phone call says so
        recontact(bot, ASK + dt.timedelta(days=42))
        assert [r.unanswered_streak for r in rounds(bot, ref)] == [1, 2]
        assert ref in bot.cli("calls", "list").stdout
    finally:
        bot.close()


def test_answers_for_entries_that_moved_on_are_escalated(bot: Bot) -> None:
    resolved = add_entry(bot)
    proposed = add_entry(bot, email="paul.martin@free.fr", nom="MARTIN")
    recontact(bot, ASK)
    from store import entries as entry_store
    with bot.app.db.transaction() as session:
        for ref, status in ((resolved, EntryStatus.CLOSED), (proposed, EntryStatus.PROPOSED)):
            found = entry_store.get_by_ref(session, ref)
            assert found is not None
            entry_store.set_status(session, found, status, now=ASK, reason="test")
    assert receive(bot, reply_to(sent_to(bot, PATIENT)[0], "OUI"), NEXT_DAY) == {"escalated": 1}
    assert last_inbound(bot).kind == "recontact_late"
    busy = reply_to(sent_to(bot, "paul.martin@free.fr")[0], "NON", sender="paul.martin@free.fr")
    assert receive(bot, busy, NEXT_DAY) == {"escalated": 1}
    assert last_inbound(bot).kind == "recontact_found_busy"
    assert entry(bot, proposed).status == EntryStatus.PROPOSED
    assert len(bot.sent()) == 2
    # The job cancels the round of the closed entry (the other one was answered).
    assert "1 tour(s) annulé(s)" in recontact(bot, REMIND)
    assert [r.outcome for r in rounds(bot, resolved)] == ["cancelled"]
    assert len(bot.sent()) == 2


def test_expired_token_is_escalated(bot: Bot) -> None:
    ref = add_entry(bot)
    recontact(bot, ASK)
    late = ASK + dt.timedelta(days=61)
    assert receive(bot, reply_to(bot.sent()[0], "OUI"), late) == {"escalated": 1}
    assert last_inbound(bot).kind == "reply_expired"
    assert entry(bot, ref).confirmed_at is None


def test_auto_replies_are_recorded_never_answered_and_not_an_answer(bot: Bot) -> None:
    ref = add_entry(bot)
    recontact(bot, ASK)
    question = bot.sent()[0]
    vacation = reply_to(question, "Je suis absente jusqu'au 15 décembre.",
                        headers="Auto-Submitted: auto-replied\r\n")
    assert receive(bot, vacation, NEXT_DAY) == {"ignored": 1}
    assert last_inbound(bot).kind == "auto_reply"
    # An absence notice written as plain text, without any RFC 3834 header.
    plain = reply_to(question, "Bonjour, je suis absente du bureau jusqu'au 15/12. "
                               "Merci pour votre message.")
    assert receive(bot, plain, NEXT_DAY) == {"ignored": 1}
    assert len(bot.sent()) == 1
    found = entry(bot, ref)
    assert found.confirmed_at is None and found.status == EntryStatus.WAITING
    assert rounds(bot, ref)[0].auto_replies == 2
    recontact(bot, REMIND)
    recontact(bot, GIVE_UP)
    rows = bot.cli("calls", "list").stdout
    assert ref in rows and "absence" in rows


def test_a_run_sends_at_most_max_mails_and_continues_next_time(
        tmp_path: Path, database_section: dict[str, str]) -> None:
    bot = Bot.create(tmp_path, database_section, extra={"recontact": {"max_mails_per_run": 2}})
    try:
        for i in range(5):
            add_entry(bot, email=f"patient{i}@gmail.com", nom=f"NOM{i}",
                      registered=REGISTERED + dt.timedelta(minutes=i))
        assert "3 reporté(s)" in recontact(bot, ASK)
        assert sorted(m["To"] for m in bot.sent()) == ["patient0@gmail.com", "patient1@gmail.com"]
        recontact(bot, ASK + dt.timedelta(hours=1))
        recontact(bot, ASK + dt.timedelta(hours=2))
        assert len(bot.sent()) == 5
        assert len({m["To"] for m in bot.sent()}) == 5
    finally:
        bot.close()


def test_template_samples_render_for_doctor(bot: Bot) -> None:
    from types import SimpleNamespace

    from mailbot.doctor.samples import SAMPLES

    mine = ("recontact", "recontact_ack_yes", "recontact_ack_no")
    entry_ = SimpleNamespace(ref="E-7QK2M9", received_at=ASK)
    for name in mine:
        rendered = bot.app.templates.render(name, cpts=bot.app.config.identity, entry=entry_,
                                            **SAMPLES[name])
        assert rendered.subject and "E-7QK2M9" in rendered.text
    reminder = bot.app.templates.render("recontact", cpts=bot.app.config.identity, entry=entry_,
                                        **{**SAMPLES["recontact"], "reminder": True,
                                           "next_step": "call"})
    assert reminder.subject.startswith("Rappel") and "par téléphone" in reminder.text
