"""Referral intake end to end: Maildir in, database, acknowledgements out (both backends)."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from store.models import Entry, EntryEvent, InboundMessage, OutboxMessage
from tests.helpers import Bot, body_of

DAC = "coordination@dac16.mssante.fr"
CH = "service.social@ch-exemple.mssante.fr"


def mail(sender: str, body: str, *, subject: str = "Fiche de saisine", message_id: str,
         headers: str = "", charset: str = "utf-8") -> bytes:
    """A plain-text mail as partners send them."""
    return (
        f"From: {sender}\r\nTo: liste-attente@cpts-exemple.mssante.fr\r\nSubject: {subject}\r\n"
        f"Date: Mon, 16 Nov 2026 10:00:00 +0100\r\nMessage-ID: <{message_id}>\r\n{headers}"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset={charset}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + body
    ).encode(charset)


COMPLETE = """Bonjour,
Nom : MARTIN
Prénom : Lucien
Date de naissance : 02/05/1950
Téléphone : 05 45 12 34 56
Code postal : 16000
Commune : Angoulême
Consentement : oui
Cordialement
"""


def test_complete_form_creates_waiting_entry_and_threaded_ack(bot: Bot) -> None:
    bot.drop_example("01-dac-text-form.eml")
    report = bot.run_once()
    assert report.states == {"processed": 1}
    [row] = bot.export()
    assert row["status"] == "waiting"
    assert row["problems"] == []
    assert row["source_message_id"] == "fiche-0001@dac16.mssante.fr"
    assert row["referrer_email"] == DAC
    assert row["nom"] == "DURAND" and row["prenom"] == "Marie"
    assert row["date_naissance"] == "1948-03-12"
    assert row["telephone"] == "+33612345678"
    assert row["code_postal"] == "16000"
    assert row["ald"] is True and row["mobilite_reduite"] is True and row["css"] is False
    assert row["consentement"] is True
    assert re.fullmatch(r"E-[0-9A-Z]{6}", row["ref"])

    [ack] = bot.sent()
    assert ack["To"] == DAC
    assert row["ref"] in ack["Subject"]
    assert ack["In-Reply-To"] == "<fiche-0001@dac16.mssante.fr>"
    assert "<fiche-0001@dac16.mssante.fr>" in ack["References"]
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["Message-ID"].endswith("@cpts-exemple.mssante.fr>")
    body = body_of(ack)
    assert row["ref"] in body
    # Nothing the referrer did not send, and no medical detail, is quoted back.
    for secret in ("diabète", "06 12", "+336", "marie.durand", "Lilas", "ALD", "1948"):
        assert secret not in body and secret not in ack["Subject"]


def test_incomplete_form_lists_each_problem_then_completion_reply_makes_it_waiting(bot: Bot) -> None:
    bot.drop_example("02-hospital-incomplete.eml")
    bot.run_once()
    [row] = bot.export()
    assert row["status"] == "incomplete"
    assert {"date_naissance", "code_postal", "commune", "consentement"} <= set(row["problems"])
    assert row["css"] is True
    [ack] = bot.sent()
    token = re.search(r"\[CPTS-C-([0-9A-Z]+)\]", ack["Subject"])
    assert token and len(token.group(1)) >= 13  # ≥ 64 random bits
    body = body_of(ack)
    for label in ("Date de naissance", "Code postal", "Commune", "Consentement du patient"):
        assert label in body
    assert "31/02/1990" in body  # the value as the referrer wrote it, to find the mistake
    assert "12/03/1948" in body  # an example of the expected form

    reply = mail(CH, "Date de naissance : 13/02/1990\nCP : 16000\nCommune : Angoulême\n"
                     "Consentement : oui\n\nLe 03/11/2026, CPTS a écrit :\n> " +
                 "\n> ".join(body.splitlines()),
                 subject=f"RE: {ack['Subject']}", message_id="reply-1@ch-exemple.mssante.fr",
                 headers=f"In-Reply-To: {ack['Message-ID']}\r\n")
    bot.drop(reply)
    report = bot.run_once()
    assert report.states == {"processed": 1}
    [row] = bot.export()
    assert row["status"] == "waiting", row
    assert row["problems"] == []
    assert row["date_naissance"] == "1990-02-13"
    assert row["commune"] == "Angoulême"
    acks = bot.sent()
    assert len(acks) == 2
    assert "complète" in acks[1]["Subject"].lower() and row["ref"] in acks[1]["Subject"]
    assert acks[1]["In-Reply-To"] == "<reply-1@ch-exemple.mssante.fr>"


def test_partial_completion_keeps_entry_incomplete_and_asks_again(bot: Bot) -> None:
    bot.drop_example("02-hospital-incomplete.eml")
    bot.run_once()
    [ack] = bot.sent()
    bot.drop(mail(CH, "Commune : Angoulême\n", subject=f"RE: {ack['Subject']}",
                  message_id="reply-2@ch-exemple.mssante.fr"))
    bot.run_once()
    [row] = bot.export()
    assert row["status"] == "incomplete"
    assert "commune" not in row["problems"]
    assert {"date_naissance", "code_postal", "consentement"} <= set(row["problems"])
    second = bot.sent()[1]
    assert "[CPTS-C-" in second["Subject"]
    assert "Commune" not in body_of(second).split("Que faire")[0]


def test_completion_from_another_address_is_escalated(bot: Bot) -> None:
    bot.drop_example("02-hospital-incomplete.eml")
    bot.run_once()
    [ack] = bot.sent()
    bot.drop(mail("urgences@ch-exemple.mssante.fr", "Commune : Angoulême\n",
                  subject=f"RE: {ack['Subject']}", message_id="reply-3@ch-exemple.mssante.fr"))
    report = bot.run_once()
    assert report.states == {"escalated": 1}
    [row] = bot.export()
    assert "commune" in row["problems"]


def test_same_patient_twice_gives_existing_reference_and_merges_history(bot: Bot) -> None:
    bot.drop_example("01-dac-text-form.eml")
    bot.run_once()
    pharmacy = ("Nom : Durand\nPrénom : marie\nDDN : 12.03.48\nTel : 0612345678\nCP : 16000\n"
                "Ville : Angouleme\nAidant : sa fille, 06 98 76 54 32\nAccord du patient : OUI\n")
    bot.drop(mail("pharmacie.moreau@pharmacien.mssante.fr", pharmacy, message_id="ph-1@pharmacien.mssante.fr"))
    report = bot.run_once()
    assert report.states == {"processed": 1}
    rows = bot.export()
    assert len(rows) == 1
    assert rows[0]["aidant"].startswith("sa fille")
    acks = bot.sent()
    assert len(acks) == 2
    assert acks[1]["To"] == "pharmacie.moreau@pharmacien.mssante.fr"
    assert rows[0]["ref"] in acks[1]["Subject"] and "déjà inscrit" in acks[1]["Subject"]
    with bot.app.db.sessions() as session:
        kinds = session.scalars(select(EntryEvent.kind).order_by(EntryEvent.id)).all()
    assert kinds == ["created", "merged"]


def test_same_patient_by_ins_even_with_other_spelling(bot: Bot) -> None:
    base = COMPLETE.replace("Consentement", "NIR : 1 50 05 16 015 123 67\nConsentement")
    bot.drop(mail(DAC, base, message_id="a@dac16.mssante.fr"))
    bot.drop(mail(DAC, base.replace("Lucien", "Lucien-Pierre"), message_id="b@dac16.mssante.fr"))
    bot.run_once()
    rows = bot.export()
    assert len(rows) == 1, rows


def test_same_message_id_is_a_duplicate_and_not_answered(bot: Bot) -> None:
    raw = mail(DAC, COMPLETE, message_id="same@dac16.mssante.fr")
    bot.drop(raw)
    bot.run_once()
    bot.drop(raw)
    report = bot.run_once()
    assert report.states == {"duplicate": 1}
    assert len(bot.export()) == 1
    assert len(bot.sent()) == 1


def test_auto_replies_and_bounces_are_ignored_never_answered(bot: Bot) -> None:
    bot.drop(mail(DAC, "Je suis absente.", subject="Réponse automatique : Inscription",
                  message_id="auto-1@dac16.mssante.fr", headers="Auto-Submitted: auto-replied\r\n"))
    bot.drop(mail(DAC, "Absent", subject="Absence du bureau", message_id="auto-2@dac16.mssante.fr"))
    bot.drop(mail(DAC, "x", subject="Out of Office: fiche", message_id="auto-3@dac16.mssante.fr",
                  headers="X-Autoreply: yes\r\n"))
    bot.drop(mail(DAC, "x", subject="Liste", message_id="auto-4@dac16.mssante.fr",
                  headers="Precedence: bulk\r\n"))
    bot.drop(mail("MAILER-DAEMON@dac16.mssante.fr", "Delivery failed", subject="Undelivered Mail",
                  message_id="dsn-1@dac16.mssante.fr"))
    report = bot.run_once()
    assert report.states == {"ignored": 5}
    assert bot.sent() == []
    assert bot.export() == []


def test_unknown_sender_is_quarantined_never_answered(bot: Bot) -> None:
    bot.drop(mail("jean.dupont@example.com", COMPLETE, message_id="x@example.com"), name="stranger")
    report = bot.run_once()
    assert report.states == {"quarantined": 1}
    assert bot.sent() == [] and bot.export() == []
    assert any(p.name.startswith("stranger") for p in (bot.inbox / ".Quarantine" / "cur").iterdir())
    with bot.app.db.sessions() as session:
        row = session.scalars(select(InboundMessage)).one()
        assert row.raw is not None and row.reason == "expéditeur inconnu"


def test_partner_mail_that_is_not_a_form_is_escalated(bot: Bot) -> None:
    bot.drop(mail(DAC, "Bonjour, pouvez-vous me rappeler au sujet de la réunion de jeudi ?\nJulie",
                  message_id="chat@dac16.mssante.fr"))
    report = bot.run_once()
    assert report.states == {"escalated": 1}
    assert bot.sent() == []


def test_coordinator_mail_is_read_as_commands_not_taken_for_a_form(bot: Bot) -> None:
    bot.drop(mail("coordination@cpts-exemple.mssante.fr", COMPLETE, message_id="c@cpts-exemple.mssante.fr"))
    bot.run_once()
    assert bot.export() == []
    [reply] = bot.sent()
    assert reply["To"] == "coordination@cpts-exemple.mssante.fr"


def test_our_own_mail_coming_back_is_ignored(bot: Bot) -> None:
    bot.drop(mail("liste-attente@cpts-exemple.mssante.fr", COMPLETE, message_id="loop@cpts-exemple.mssante.fr"))
    bot.drop(mail(DAC, COMPLETE, message_id="fwd@dac16.mssante.fr", headers="X-CPTS-Mailbot: 1\r\n"))
    assert bot.run_once().states == {"ignored": 2}
    assert bot.sent() == []


def test_outside_territory_is_refused_politely(tmp_path, database_section) -> None:  # type: ignore[no-untyped-def]
    bot = Bot.create(tmp_path, database_section, {"intake": {"postal_code_prefixes": ["16"]}})
    try:
        bot.drop(mail(DAC, COMPLETE.replace("16000", "75011").replace("Angoulême", "Paris"),
                      message_id="paris@dac16.mssante.fr"))
        assert bot.run_once().states == {"processed": 1}
        assert bot.export() == []
        [ack] = bot.sent()
        assert "75011" in body_of(ack) and "territoire" in body_of(ack)
    finally:
        bot.close()


def test_every_mail_ends_in_exactly_one_terminal_state(bot: Bot) -> None:
    raws = [
        mail(DAC, COMPLETE, message_id="t1@dac16.mssante.fr"),
        mail(DAC, COMPLETE, message_id="t1@dac16.mssante.fr"),
        mail("x@example.org", COMPLETE, message_id="t2@example.org"),
        mail(DAC, "bonjour", message_id="t3@dac16.mssante.fr"),
        b"\xff\xfe garbage without headers \x00\x01",
        b"From: <coordination@dac16.mssante.fr>\r\nSubject: =?utf-8?b?broken\r\n\r\n\xe9\xe8",
        mail(DAC, "Nom : A\nPrénom : B\nDate de naissance : 99/99/9999\n", message_id="t4@dac16.mssante.fr",
             charset="latin-1"),
    ]
    for raw in raws:
        bot.drop(raw)
    report = bot.run_once()
    assert report.fetched == len(raws)
    assert sum(report.states.values()) == len(raws)
    assert list((bot.inbox / "new").iterdir()) == []
    with bot.app.db.sessions() as session:
        states = dict(session.execute(select(InboundMessage.state, func.count()).group_by(InboundMessage.state)).all())
        assert sum(states.values()) == len(raws)
        assert "received" not in states


def test_outbox_retry_never_makes_a_second_mail(bot: Bot) -> None:
    bot.drop(mail(DAC, COMPLETE, message_id="r1@dac16.mssante.fr"))
    bot.run_once()
    with bot.app.db.transaction() as session:
        row = session.scalars(select(OutboxMessage)).one()
        row.state = "pending"  # as if the process died after writing but before marking it sent
    bot.run_once()
    assert len(bot.sent()) == 1
    with bot.app.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Entry)) == 1
