"""Mail across tenants: a coordinator's commands naming the other tenant's entry or GP, a GP
answering OUI/NON with the other tenant's token, one partner referring the same patient to both,
digests and statistics — only the tenant the mail reached changes, and only with its own data."""

from __future__ import annotations

import datetime as dt
import json
from email.message import EmailMessage

import pytest
from sqlalchemy import text

from mailbot.commands import commands
from tests.helpers import Bot, body_of
from tests.tenants_support import PARTNER_B, Tenants, fingerprint, ref_of
from tests.test_commands_mail import COORD
from tests.test_intake_e2e import COMPLETE, DAC, mail
from tests.test_matching_support import T0, gp_email, reply, rpps, token_in
from tests.test_tenants_cli import AT

LEAKS = ("TENANTB", "GP2", gp_email(2))



def _new_mails(bot: Bot, before: set[str]) -> list[EmailMessage]:
    return [m for m in bot.sent() if m["Message-ID"] not in before]


def _command(bot: Bot, body: str, n: int) -> str:
    """A coordinator's command mail into ``bot``; the text of the answer."""
    message_id = f"cmd-{n}@cpts-exemple.mssante.fr"
    bot.drop(mail(COORD, body, subject="Commandes", message_id=message_id))
    bot.run_once()
    [answer] = [m for m in bot.sent() if m["In-Reply-To"] == f"<{message_id}>"]
    return body_of(answer) + str(answer["Subject"])


def _status(bot: Bot, nom: str) -> str:
    with bot.app.db.sessions() as session:
        return str(session.execute(text("SELECT status FROM entry WHERE nom = :n"), {"n": nom}).scalar_one())


def _gp_accepting(bot: Bot, number: str) -> bool:
    with bot.app.db.sessions() as session:
        return bool(session.execute(text("SELECT accepting FROM gp WHERE rpps = :r"), {"r": number})
                    .scalar_one())


def test_every_mail_command_naming_the_other_tenant_finds_nothing(tenants: Tenants) -> None:
    tenants.b.run_once()  # b's pending referral: b's own mail, acknowledged by b
    ref_b = ref_of(tenants.b, "TENANTB")
    lines = {"STATUT": f"STATUT {ref_b}", "CLOTURER": f"CLOTURER {ref_b} retrait",
             "ROUVRIR": f"ROUVRIR {ref_b}", "PRIORITAIRE": f"PRIORITAIRE {ref_b}",
             "PROPOSER": f"PROPOSER {ref_b} A {rpps(1)}", "RENVOYER": f"RENVOYER {ref_b}",
             "COMPLETER": f"COMPLETER {ref_b}\nCommune : Cognac",
             "PAUSE": f"PAUSE {rpps(2)}", "REPRISE": f"REPRISE {rpps(2)}", "AIDE": "AIDE"}
    assert set(lines) == set(commands())  # a new mail command must be tried here too
    before = fingerprint(tenants.b)
    for n, (name, line) in enumerate(lines.items()):
        answer = _command(tenants.a, line, n)
        assert not [w for w in LEAKS if w in answer], (name, answer)
        if name != "AIDE":
            assert "REFUSÉ" in answer and "Effectué" not in answer, (name, answer)
        assert fingerprint(tenants.b) == before, name
    # The same commands on b's own mailbox do act (so the refusals above are the tenant's doing).
    answer = _command(tenants.b, f"STATUT {ref_b}\nPAUSE {rpps(2)}", 99)
    assert "TENANTB" in answer and "REFUSÉ" not in answer
    assert not _gp_accepting(tenants.b, rpps(2))


def test_the_same_gp_paused_by_mail_in_one_tenant_stays_active_in_the_other(tenants: Tenants) -> None:
    assert "Effectué" in _command(tenants.a, f"PAUSE {rpps(1)}", 1)
    assert not _gp_accepting(tenants.a, rpps(1)) and _gp_accepting(tenants.b, rpps(1))


@pytest.mark.parametrize("answer", ["OUI, je prends", "NON merci"])
def test_a_gp_answering_with_the_other_tenants_token_changes_neither(tenants: Tenants, answer: str) -> None:
    code, _ = tenants.cli("b", "jobs", "run", "proposals", "--at", AT)
    assert code == 0
    [proposal] = [m for m in tenants.b.sent() if m["To"] == gp_email(1)]
    assert "TENANTB" not in body_of(proposal)  # pseudonymised, as always
    token = token_in(proposal["Subject"])
    for bot in tenants.bots.values():
        bot.clock.frozen = T0 + dt.timedelta(hours=4)  # the answer comes the same morning
    before_b, before_a = fingerprint(tenants.b), _status(tenants.a, "TENANTA")
    sent_a = {m["Message-ID"] for m in tenants.a.sent()}
    # The GP, registered in both tenants, answers b's proposal into a's mailbox.
    tenants.a.drop(reply(gp_email(1), answer, subject=f"RE: {proposal['Subject']}",
                         message_id="wrong-box@medecin.mssante.fr", in_reply_to=proposal["Message-ID"]))
    tenants.a.run_once()
    assert fingerprint(tenants.b) == before_b
    assert _status(tenants.a, "TENANTA") == before_a == "waiting"
    for sent in _new_mails(tenants.a, sent_a):  # whatever a says, it says nothing of b
        assert not [w for w in LEAKS if w in body_of(sent)] and token not in body_of(sent)
    with tenants.a.app.db.sessions() as session:
        assert session.execute(text("SELECT count(*) FROM proposal")).scalar_one() == 0
    # The same answer in b's own mailbox is read: the token works where it was issued.
    tenants.b.drop(reply(gp_email(1), answer, subject=f"RE: {proposal['Subject']}",
                         message_id="right-box@medecin.mssante.fr", in_reply_to=proposal["Message-ID"]))
    tenants.b.run_once()
    assert _status(tenants.b, "TENANTB") == ("matched" if answer.startswith("OUI") else "waiting")
    with tenants.b.app.db.sessions() as session:
        state = session.execute(text("SELECT state FROM proposal ORDER BY id LIMIT 1")).scalar_one()
    assert state == ("accepted" if answer.startswith("OUI") else "declined")


def test_one_partner_referring_the_same_patient_to_both_tenants_registers_it_in_each(
        tenants: Tenants) -> None:
    tenants.b.run_once()  # b's inbox already holds the DAC's referral of MARTIN Lucien
    before_b = fingerprint(tenants.b)
    tenants.a.drop(mail(DAC, COMPLETE, message_id="same-patient-a@dac16.mssante.fr"))
    tenants.a.run_once()
    assert fingerprint(tenants.b) == before_b
    for bot in (tenants.a, tenants.b):
        with bot.app.db.sessions() as session:
            assert session.execute(text("SELECT count(*) FROM entry WHERE nom = 'MARTIN'")).scalar_one() == 1
        [ack] = [m for m in bot.sent() if m["To"] == DAC]
        assert "Inscription enregistrée" in ack["Subject"] and "déjà" not in ack["Subject"]
        assert bot.app.config.identity.address in ack["From"]
    ref_a, ref_b = ref_of(tenants.a, "MARTIN"), ref_of(tenants.b, "MARTIN")
    assert ref_a != ref_b
    assert ref_b not in body_of(next(m for m in tenants.a.sent() if m["To"] == DAC))


def test_a_partner_of_the_other_tenant_is_a_stranger_here(tenants: Tenants) -> None:
    body = COMPLETE.replace("MARTIN", "ETRANGER")
    tenants.a.drop(mail(PARTNER_B, body, message_id="stranger-a@chu-b.mssante.fr"))
    tenants.a.run_once()
    with tenants.a.app.db.sessions() as session:
        assert session.execute(text("SELECT state FROM inbound_message")).scalar_one() == "quarantined"
        assert session.execute(text("SELECT count(*) FROM entry WHERE nom = 'ETRANGER'")).scalar_one() == 0
    assert not [m for m in tenants.a.sent() if m["To"] == PARTNER_B]
    tenants.b.drop(mail(PARTNER_B, body, message_id="stranger-b@chu-b.mssante.fr"))
    tenants.b.run_once()
    assert _status(tenants.b, "ETRANGER") == "waiting"


def test_digests_and_stats_of_a_tenant_count_only_its_own_data(tenants: Tenants) -> None:
    tenants.b.run_once()
    ref_b = ref_of(tenants.b, "TENANTB")
    from tests.test_digest import alert

    alert(tenants.b, "call_list", "à appeler : pas d'adresse e-mail", entry_ref=ref_b)
    tenants.b.drop(mail("inconnu@gmail.com", "Bonjour, je cherche un médecin", message_id="u1@gmail.com"))
    tenants.b.run_once()
    digests = {}
    for name, bot in tenants.bots.items():
        before = {m["Message-ID"] for m in bot.sent()}
        code, _ = tenants.cli(name, "jobs", "run", "digest", "--at", "2026-11-12T08:00")
        assert code == 0
        digests[name] = "".join(body_of(m) for m in _new_mails(bot, before) if m["To"] == COORD)
    assert ref_b in digests["b"] and "inconnu@gmail.com" in digests["b"]
    assert ref_b not in digests["a"] and "inconnu@gmail.com" not in digests["a"]
    figures = {}
    for name in tenants.bots:
        code, out = tenants.cli(name, "stats", "--format", "json", "--at", "2026-11-12T08:00")
        assert code == 0
        figures[name] = json.loads(out)["snapshot"]["entries_by_status"]
    assert sum(_counts(figures["a"])) == 1  # TENANTA
    assert sum(_counts(figures["b"])) == 2  # TENANTB and the DAC's MARTIN


def _counts(by_status: object) -> list[int]:
    if isinstance(by_status, dict):
        return [int(v) for v in by_status.values() if isinstance(v, int | float)]
    assert isinstance(by_status, list)
    return [int(row["count"]) for row in by_status]



