"""The coordinators' operations on the command line: the same functions as the commands by mail."""

from __future__ import annotations

import datetime as dt
import getpass

from sqlalchemy import select

from store.alerts import raise_alert
from store.models import Alert, AuditRecord, Entry
from store.models_matching import Proposal
from tests.helpers import Bot
from tests.test_commands_mail import audit_rows, registered, row_of
from tests.test_matching_support import T0, add_entry, add_gp, gp_email, rpps


def test_close_status_reopen_prioritize_with_the_cli_author(bot: Bot) -> None:
    row = registered(bot)
    ref = row["ref"]
    out = bot.cli("entries", "close", ref.lower(), "--reason", "décédé le 3 novembre").stdout
    assert f"{ref} clôturée (décès)" in out
    assert row_of(bot, ref)["closed_reason"] == "deceased"
    status = bot.cli("entries", "status", ref).stdout
    assert "clôturée" in status and "Sortie le" in status and "décès" in status
    assert f"{ref} rouverte" in bot.cli("entries", "reopen", ref).stdout
    assert "prioritaire" in bot.cli("entries", "prioritize", ref).stdout
    after = row_of(bot, ref)
    assert after["status"] == "waiting" and after["received_at"] == row["received_at"]
    actors = {a.actor for a in audit_rows(bot, "entry.status")} | {
        a.actor for a in audit_rows(bot, "entry.priority")}
    assert f"cli:{getpass.getuser()}" in actors
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Entry)).one().priority is True
    shown = bot.cli("entries", "show", ref).stdout  # the history says who did what
    assert "comment" in shown and "3 novembre" in shown


def test_refusals_exit_2_with_the_reason_and_change_nothing(bot: Bot) -> None:
    ref = registered(bot)["ref"]
    proc = bot.cli("entries", "close", ref, "--reason", "parti", check=False)
    assert proc.returncode == 2
    assert "retrait, déménagé, décédé, doublon ou injoignable" in proc.stderr
    proc = bot.cli("entries", "reopen", ref, check=False)
    assert proc.returncode == 2 and "déjà ouverte" in proc.stderr
    proc = bot.cli("entries", "close", "E-ZZZZZZ", "--reason", "retrait", check=False)
    assert proc.returncode == 2 and "aucune inscription E-ZZZZZZ" in proc.stderr
    proc = bot.cli("entries", "complete", ref, "--line", "Date de naissance : 31/02/1990", check=False)
    assert proc.returncode == 2 and "n'existe pas" in proc.stderr
    assert row_of(bot, ref)["status"] == "waiting"
    with bot.app.db.sessions() as session:
        assert not session.scalars(select(AuditRecord).where(
            AuditRecord.actor.startswith("cli:"))).first()


def test_complete_and_resend_from_the_cli(bot: Bot) -> None:
    ref = registered(bot, "02-hospital-incomplete.eml")["ref"]
    out = bot.cli("entries", "complete", ref, "--line", "Date de naissance : 13/02/1990",
                  "--line", "Code postal : 16000", "--line", "Commune : Angoulême",
                  "--line", "Consentement : oui").stdout
    assert "La fiche est complète" in out
    assert row_of(bot, ref)["status"] == "waiting"
    [ack] = bot.sent()
    out = bot.cli("entries", "resend", ref).stdout
    assert "demande de compléments" in out and "envois : 1 envoyé" in out
    copy = bot.sent()[-1]
    assert copy["Subject"] == ack["Subject"] and copy["Message-ID"] != ack["Message-ID"]


def test_propose_from_the_cli_sends_the_proposal(bot: Bot) -> None:
    with bot.app.db.transaction() as session:
        add_gp(session, 1)
        ref = add_entry(session, 1, received=T0 - dt.timedelta(days=30)).ref
    out = bot.cli("entries", "propose", ref, "--gp", rpps(1)).stdout
    assert f"{ref} proposée à Dr Paul GP1" in out and "envois : 1 envoyé" in out
    [proposal_mail] = bot.sent()
    assert proposal_mail["To"] == gp_email(1)
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Proposal)).one().actor == f"cli:{getpass.getuser()}"
    proc = bot.cli("entries", "propose", ref, "--gp", rpps(1), check=False)
    assert proc.returncode == 2 and "proposée à un médecin" in proc.stderr


def test_gp_pause_and_resume_from_the_cli_are_the_mail_operations(bot: Bot) -> None:
    with bot.app.db.transaction() as session:
        add_gp(session, 1)
        raise_alert(session, kind="gp_no_capacity", reason="capacité à 0", now=T0,
                    subject_ref=rpps(1))
    assert "est en pause." in bot.cli("gps", "pause", rpps(1)).stdout
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Alert)).one().resolved_at is None  # pausing settles nothing
    assert "reçoit des propositions." in bot.cli("gps", "resume", rpps(1)).stdout
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Alert)).one().resolved_at is not None  # as REPRISE by mail
    actors = {(a.action, a.actor) for a in audit_rows(bot, "gp.") if a.action != "gp.created"}
    assert actors == {("gp.paused", f"cli:{getpass.getuser()}"),
                      ("gp.resumed", f"cli:{getpass.getuser()}")}
    proc = bot.cli("gps", "pause", "123", check=False)
    assert proc.returncode == 2 and "numéro RPPS illisible" in proc.stderr


def test_every_mail_command_has_its_cli_equivalent(bot: Bot) -> None:
    """AIDE is ``--help``; each other command names an action of ``entries`` or ``gps``."""
    from mailbot.commands import commands

    equivalents = {"STATUT": ("entries", "status"), "CLOTURER": ("entries", "close"),
                   "ROUVRIR": ("entries", "reopen"), "PRIORITAIRE": ("entries", "prioritize"),
                   "PROPOSER": ("entries", "propose"), "RENVOYER": ("entries", "resend"),
                   "COMPLETER": ("entries", "complete"), "PAUSE": ("gps", "pause"),
                   "REPRISE": ("gps", "resume"), "AIDE": ("entries", "--help")}
    assert set(equivalents) == set(commands())
    helps = {group: bot.cli(group, "--help").stdout for group in ("entries", "gps")}
    for name, (group, action) in equivalents.items():
        assert action in helps[group], name
