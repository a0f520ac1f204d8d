"""Ambiguous referral forms end to end (issue 15): a field given two different values, or a
form repeated thousands of times, makes an incomplete entry whose acknowledgement names the
conflict; the first value is never kept silently (Maildir in, both backends)."""

from __future__ import annotations

import re
import time

from store.models import InboundMessage
from tests.helpers import Bot, body_of
from tests.test_intake_e2e import CH, mail

FORM = """Bonjour,

Nom : DURAND
Prénom : Marie
Date de naissance : 12/03/1948
Téléphone : 06 12 34 56 78
Code postal : 16000
Commune : Angoulême
Consentement : oui
{extra}
Cordialement
"""


def _one_entry(bot: Bot, body: str, message_id: str) -> dict[str, object]:
    bot.drop(mail(CH, body, message_id=message_id))
    report = bot.run_once()
    assert report.states == {"processed": 1}
    [row] = bot.export()
    return row


def test_two_different_names_make_an_incomplete_entry_that_quotes_both(bot: Bot) -> None:
    row = _one_entry(bot, FORM.format(extra="Nom : MARTIN"), "conflict-1@ch-exemple.mssante.fr")
    assert row["status"] == "incomplete"
    assert row["problems"] == ["nom"]
    assert row.get("nom") is None  # neither DURAND (the first) nor MARTIN is kept
    assert row["prenom"] == "Marie"
    [ack] = bot.sent()
    assert "[CPTS-C-" in ack["Subject"]
    body = body_of(ack)
    assert "se contredisent" in body
    assert "Nom : la fiche indique deux valeurs différentes, « DURAND » et « MARTIN » : merci de " \
           "nous préciser la bonne" in body
    assert "(exemple : DURAND)" not in body  # no example that would look like our choice

    shown = bot.cli("entries", "show", str(row["ref"])).stdout
    assert "« DURAND » et « MARTIN »" in shown

    # The referrer answers with the right name: the entry is complete.
    bot.drop(mail(CH, "Nom : DURAND\n", subject=f"RE: {ack['Subject']}",
                  message_id="conflict-1-reply@ch-exemple.mssante.fr",
                  headers=f"In-Reply-To: {ack['Message-ID']}\r\n"))
    assert bot.run_once().states == {"processed": 1}
    [row] = bot.export()
    assert row["status"] == "waiting", row
    assert row["nom"] == "DURAND" and row["problems"] == []


def test_two_birth_dates_and_two_mobiles_are_each_a_conflict(bot: Bot) -> None:
    extra = "Né le : 21/03/1948\nPortable : 07 11 22 33 44"
    row = _one_entry(bot, FORM.format(extra=extra), "conflict-2@ch-exemple.mssante.fr")
    assert row["status"] == "incomplete"
    assert row["problems"] == ["date_naissance", "telephone"]
    assert row.get("date_naissance") is None and row.get("telephone") is None
    body = body_of(bot.sent()[0])
    assert "« 12/03/1948 » et « 21/03/1948 »" in body
    assert "« 06 12 34 56 78 » et « 07 11 22 33 44 »" in body


def test_the_same_value_again_and_a_landline_beside_a_mobile_are_no_conflict(bot: Bot) -> None:
    extra = "NOM : Durand\nDate de naissance : 12.03.48\nTél. fixe : 05 45 00 00 00"
    row = _one_entry(bot, FORM.format(extra=extra), "same-1@ch-exemple.mssante.fr")
    assert row["status"] == "waiting", row
    assert row["nom"] == "DURAND" and row["telephone"] == "+33612345678"
    assert "Fiche incomplète" not in bot.sent()[0]["Subject"]


def test_ten_thousand_repeated_lines_end_incomplete_with_a_clear_reason(bot: Bot) -> None:
    repeated = "\n".join(f"Nom : DURAND{n % 7 or ''}" for n in range(10_000))
    started = time.monotonic()
    row = _one_entry(bot, FORM.format(extra=repeated), "repeated-1@ch-exemple.mssante.fr")
    elapsed = time.monotonic() - started
    assert row["status"] == "incomplete"
    assert row["problems"] == ["nom"] and row.get("nom") is None
    body = body_of(bot.sent()[0])
    assert re.search(r"Nom : cette rubrique apparaît au moins \d{4,5} fois : la fiche semble mal "
                     r"formée, merci de nous la renvoyer avec une seule ligne par rubrique", body)
    with bot.app.db.sessions() as session:
        [state] = [m.state for m in session.query(InboundMessage)]
    assert state == "processed"
    print(f"10 000 repeated lines read and registered in {elapsed:.2f} s")
