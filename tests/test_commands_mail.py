"""Commands by mail from coordinators: one per line, each answered with its result (both backends)."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import select

from mailbot import operations
from store.models import Alert, AuditRecord, Entry, InboundMessage, OutboxMessage
from store.models_matching import GP, Proposal
from tests.helpers import Bot, body_of
from tests.test_intake_e2e import mail
from tests.test_matching_support import T0, add_entry, add_gp, gp_email, rpps

COORD = "coordination@cpts-exemple.mssante.fr"


def command_mail(bot: Bot, body: str, *, subject: str = "Commandes", sender: str = COORD) -> EmailMessage:
    """Send ``body`` as a coordinator's mail, run one pass, return the bot's answer to it."""
    bot.counter += 1
    message_id = f"cmd-{bot.counter}@cpts-exemple.mssante.fr"
    bot.drop(mail(sender, body, subject=subject, message_id=message_id))
    bot.run_once()
    answers = [m for m in bot.sent() if m["In-Reply-To"] == f"<{message_id}>"]
    assert len(answers) == 1, [m["Subject"] for m in bot.sent()]
    return answers[0]


def registered(bot: Bot, example: str = "01-dac-text-form.eml") -> dict[str, Any]:
    """Register one example referral; return its export row."""
    before = {row["ref"] for row in bot.export()}
    bot.drop_example(example)
    bot.run_once()
    [row] = [row for row in bot.export() if row["ref"] not in before]
    return row


def row_of(bot: Bot, ref: str) -> dict[str, Any]:
    """The export row of one entry."""
    [row] = [row for row in bot.export() if row["ref"] == ref]
    return row


def audit_rows(bot: Bot, prefix: str) -> list[AuditRecord]:
    """Audit rows whose action starts with ``prefix``."""
    with bot.app.db.sessions() as session:
        return list(session.scalars(select(AuditRecord).where(AuditRecord.action.startswith(prefix))
                                    .order_by(AuditRecord.id)))


def test_each_command_is_run_audited_and_answered_in_a_threaded_reply(bot: Bot) -> None:
    ref = registered(bot)["ref"]
    answer = command_mail(bot, f"Bonjour à tous,\n\nSTATUT {ref}\nclôturer {ref.lower()} déménagé "
                               f"à Lyon\nPeux-tu regarder ?\n\nCordialement\nMarie Coordination\n")
    assert answer["To"] == COORD
    assert answer["Auto-Submitted"] == "auto-replied"
    assert "1 refusée" in answer["Subject"]
    body = body_of(answer)
    status = body.split(f"> STATUT {ref}")[1]
    assert "en attente d'un médecin" in status.split(">")[0]
    assert "DURAND Marie" in status and "06 12 34 56 78" in status
    assert f"> clôturer {ref.lower()} déménagé à Lyon\nEffectué : {ref} clôturée (déménagement)" in body
    assert "> Peux-tu regarder ?\nREFUSÉ : ligne non comprise" in body
    assert "PROPOSER E-xxxx A <RPPS du médecin>" in body  # help text, after an error
    assert "Marie Coordination" not in body  # the signature is not read as a command

    row = row_of(bot, ref)
    assert row["status"] == "closed" and row["closed_reason"] == "moved_away"
    commands = audit_rows(bot, "command.")
    assert [c.action for c in commands] == ["command.statut", "command.cloturer", "command.inconnue"]
    assert {c.actor for c in commands} == {f"coordinator:{COORD}"}
    assert [c.after for c in commands] == [{"ok": True}, {"ok": True}, {"ok": False}]
    [closing] = [a for a in audit_rows(bot, "entry.status") if (a.after or {}).get("status") == "closed"]
    assert closing.actor == f"coordinator:{COORD}" and closing.inbound_message_id is not None
    with bot.app.db.sessions() as session:
        inbound = session.scalars(select(InboundMessage).where(InboundMessage.sender == COORD)).one()
        assert (inbound.state, inbound.kind) == ("processed", "command")


def test_close_reasons_are_read_in_french_and_a_wrong_one_lists_the_accepted_ones(bot: Bot) -> None:
    first, second = registered(bot)["ref"], registered(bot, "02-hospital-incomplete.eml")["ref"]
    body = body_of(command_mail(bot, f"CLOTURER {first} Décédée le 3/11\nCLOTURER {second} parti\n"))
    assert f"{first} clôturée (décès)" in body
    assert "motif de clôture « parti » non reconnu" in body
    assert "retrait, déménagé, décédé, doublon ou injoignable" in body
    assert row_of(bot, first)["closed_reason"] == "deceased"
    assert row_of(bot, second)["status"] == "incomplete"  # refused: nothing changed
    body = body_of(command_mail(bot, f"CLOTURER {second} doublon\nCLOTURER {first} retrait\n"))
    assert row_of(bot, second)["closed_reason"] == "duplicate"
    assert f"{first} est déjà clôturée : rien à clôturer" in body


@pytest.mark.parametrize(("word", "code"), [("retrait", "withdrawn"), ("déménagement", "moved_away"),
                                            ("DECES", "deceased"), ("Doublon", "duplicate"),
                                            ("injoignable", "unreachable"), ("moved_away", "moved_away")])
def test_close_reason_words(word: str, code: str) -> None:
    assert operations.parse_close_reason(f"{word} depuis mars") == (code, "depuis mars")


def test_reopen_puts_the_entry_back_at_its_original_rank(bot: Bot) -> None:
    row = registered(bot)
    ref = row["ref"]
    bot.clock.frozen = dt.datetime.now(dt.UTC) + dt.timedelta(days=40)
    command_mail(bot, f"CLOTURER {ref} injoignable")
    body = body_of(command_mail(bot, f"ROUVRIR {ref}\nROUVRIR {ref}"))
    assert f"{ref} rouverte : en attente, à son rang d'origine" in body
    assert f"{ref} est déjà ouverte" in body
    after = row_of(bot, ref)
    assert after["status"] == "waiting"
    assert after["received_at"] == row["received_at"]
    assert "closed_reason" not in after and "resolved_at" not in after


def test_completer_merges_form_lines_and_an_invalid_value_changes_nothing(bot: Bot) -> None:
    ref = registered(bot, "02-hospital-incomplete.eml")["ref"]
    body = body_of(command_mail(bot, f"COMPLETER {ref}\nDate de naissance : 31/02/1990\n"
                                     "Commune : Angoulême\n"))
    assert "REFUSÉ : rien n'a été modifié : Date de naissance" in body
    assert "commune" not in row_of(bot, ref)
    body = body_of(command_mail(bot, f"COMPLETER {ref}\nDate de naissance : 13/02/1990\nCP : 16000\n"
                                     "Commune : Angoulême\nà voir avec la famille\n"
                                     "Consentement : oui\nSTATUT " + ref))
    assert "La fiche est complète : inscription en attente d'un médecin" in body
    assert "« à voir avec la famille »" in body  # a line not understood is said, not silently lost
    row = row_of(bot, ref)
    assert row["status"] == "waiting" and row["problems"] == []
    assert (row["date_naissance"], row["commune"]) == ("1990-02-13", "Angoulême")
    [completed] = audit_rows(bot, "entry.completed")
    assert completed.actor == f"coordinator:{COORD}"


def test_renvoyer_sends_a_fresh_copy_of_the_last_mail_to_the_same_recipient(bot: Bot) -> None:
    ref = registered(bot)["ref"]
    [ack] = bot.sent()
    body = body_of(command_mail(bot, f"RENVOYER {ref}"))
    sent_on = bot.clock.today().strftime('%d/%m/%Y')  # the bot's day is Paris's, not the machine's
    assert f"accusé d'inscription du {sent_on}" in body
    [copy] = [m for m in bot.sent()
              if m["Subject"] == ack["Subject"] and m["Message-ID"] != ack["Message-ID"]]
    assert copy["To"] == ack["To"]
    assert body_of(copy) == body_of(ack)
    with bot.app.db.sessions() as session:
        kinds = [o.kind for o in session.scalars(select(OutboxMessage).where(
            OutboxMessage.entry_id.is_not(None)).order_by(OutboxMessage.id))]
    assert kinds == ["ack_registered", "ack_registered"]


def test_prioritaire_unknown_and_unreadable_references(bot: Bot) -> None:
    ref = registered(bot)["ref"]
    body = body_of(command_mail(bot, f"PRIORITAIRE {ref}\nPRIORITAIRE {ref}\nSTATUT E-ZZZZZZ\n"
                                     "STATUT E-12\nSTATUT\nCLOTURER"))
    assert f"{ref} est maintenant prioritaire" in body
    assert f"{ref} était déjà prioritaire" in body
    assert "aucune inscription E-ZZZZZZ" in body
    assert "référence illisible « E-12 »" in body
    assert "il manque la référence : écrivez « STATUT E-xxxx »" in body
    assert "il manque la référence : écrivez « CLOTURER E-xxxx motif »" in body
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Entry)).one().priority is True


def test_pause_reprise_and_proposer_use_the_gp_registry(bot: Bot) -> None:
    bot.clock.frozen = T0
    with bot.app.db.transaction() as session:
        add_gp(session, 1)
        ref = add_entry(session, 1, received=T0 - dt.timedelta(days=30)).ref
    body = body_of(command_mail(bot, f"PAUSE {rpps(1)}\nPROPOSER {ref} A {rpps(1)}\nPAUSE 123"))
    assert "est en pause : plus aucune proposition" in body
    assert "est en pause : REPRISE" in body  # no proposal to a paused GP
    assert "numéro RPPS illisible « 123 »" in body
    body = body_of(command_mail(bot, f"REPRISE {rpps(1)}\nproposer {ref} à {rpps(1)}\n"
                                     f"PROPOSER {ref} A {rpps(2)}"))
    assert "reçoit de nouveau des propositions" in body
    assert f"{ref} proposée à Dr Paul GP1" in body
    assert f"aucun médecin de RPPS {rpps(2)}" in body
    assert row_of(bot, ref)["status"] == "proposed"
    [proposal_mail] = [m for m in bot.sent() if m["To"] == gp_email(1)]
    assert "[CPTS-P-" in proposal_mail["Subject"]
    with bot.app.db.sessions() as session:
        assert session.scalars(select(GP)).one().accepting is True
        proposal = session.scalars(select(Proposal)).one()
        assert proposal.kind == "forced" and proposal.actor == f"coordinator:{COORD}"
    # Closing the entry withdraws the proposal and tells the GP.
    command_mail(bot, f"CLOTURER {ref} retrait")
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Proposal)).one().state == "cancelled"
    assert [m["To"] for m in bot.sent()].count(gp_email(1)) == 2


def test_subject_command_aide_and_a_mail_without_commands(bot: Bot) -> None:
    ref = registered(bot)["ref"]
    answer = command_mail(bot, "", subject=f"STATUT {ref}")
    assert f"> STATUT {ref}\nEffectué : {ref} : en attente" in body_of(answer)
    assert answer["Subject"] == "Commandes effectuées (1)"
    assert "PAUSE <RPPS du médecin>" in body_of(command_mail(bot, "aide"))
    answer = command_mail(bot, "Bonjour,\n\nMerci !\n", subject="Re: Synthèse du 02/11/2026")
    assert answer["Subject"] == "Aucune commande reconnue"
    assert "COMPLETER E-xxxx" in body_of(answer)


def test_one_command_failing_inside_does_not_undo_the_others(bot: Bot,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ref = registered(bot)["ref"]

    def broken(ctx: operations.OpContext, entry: Entry) -> str:
        entry.priority = True  # written, then the savepoint must take it back
        raise RuntimeError("bug")

    monkeypatch.setattr(operations, "prioritize_entry", broken)
    body = body_of(command_mail(bot, f"PRIORITAIRE {ref}\nCLOTURER {ref} retrait"))
    assert "REFUSÉ : erreur interne : rien n'a été modifié" in body
    assert f"{ref} clôturée (retrait de la demande)" in body
    with bot.app.db.sessions() as session:
        entry = session.scalars(select(Entry)).one()
        assert (entry.priority, entry.status) == (False, "closed")


def test_commands_from_other_addresses_are_quarantined_not_run(bot: Bot) -> None:
    ref = registered(bot)["ref"]
    bot.drop(mail("coordination@dac16.mssante.fr", f"CLOTURER {ref} retrait\n", message_id="p1@dac16"))
    bot.drop(mail("intrus@gmail.com", f"CLOTURER {ref} retrait\n", message_id="u1@gmail.com"))
    report = bot.run_once()
    assert report.states == {"quarantined": 2}
    assert row_of(bot, ref)["status"] == "waiting"
    with bot.app.db.sessions() as session:
        kinds = {m.kind for m in session.scalars(select(InboundMessage)
                                                 .where(InboundMessage.state == "quarantined"))}
    assert kinds == {"command_refused", "unknown_sender"}
    assert len(bot.sent()) == 1  # the acknowledgement only: nothing answered


def test_closing_resolves_the_entry_alerts(bot: Bot) -> None:
    ref = registered(bot)["ref"]
    with bot.app.db.transaction() as session:
        entry = session.scalars(select(Entry)).one()
        session.add(Alert(created_at=T0, kind="proposal_declined", reason="décliné", entry_id=entry.id))
    command_mail(bot, f"CLOTURER {ref} retrait")
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Alert)).one().resolved_at is not None
    assert re.fullmatch(r"E-[0-9A-Z]{6}", ref)
