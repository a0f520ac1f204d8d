"""The call list: ``mailbot calls list|record`` (real CLI) and its API for the digest (both backends)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from sqlalchemy import select

from store import calls, entries
from store.db import Database
from store.models import Alert, AuditRecord, EntryStatus
from store.models_recontact import CallOutcome, CallReason
from tests.helpers import Bot
from tests.recontact_support import ASK, add_entry, entry, paris, recontact


def _two_without_email(bot: Bot) -> tuple[str, str]:
    first = add_entry(bot, email=None, nom="MARTIN", prenom="Paul", telephone="+33545000001")
    second = add_entry(bot, email=None, nom="PETIT", prenom="Jeanne", telephone="+33545000002",
                       registered=paris(2026, 10, 20, 10, 0))
    recontact(bot, ASK)
    return first, second


def test_list_shows_who_to_phone_and_still_looking_confirms(bot: Bot) -> None:
    first, second = _two_without_email(bot)
    rows = json.loads(bot.cli("calls", "list", "--format", "json").stdout)
    assert [r["ref"] for r in rows] == [first, second]  # longest waiting first
    assert rows[0]["telephone"] == "+33545000001" and rows[0]["reason"] == "no_email"
    assert rows[0]["reason_label"] == "pas d'adresse e-mail" and rows[0]["attempts"] == 0
    table = bot.cli("calls", "list").stdout
    assert "MARTIN Paul" in table and "05 45 00 00 01" in table and "2 patient(s) à appeler" in table

    done = bot.cli("calls", "record", first.lower(), "--outcome", "still-looking", "--by", "Claire",
                   "--note", "rappelée, toujours sans médecin")
    assert "retiré de la liste d'appels" in done.stdout
    found = entry(bot, first)
    assert found.status == EntryStatus.WAITING and found.confirmed_at is not None
    [call] = [e for e in found.events if e.kind == "call"]
    assert call.detail["outcome"] == "still_looking" and "rappelée" in call.detail["note"]
    [confirmed] = [e for e in found.events if e.kind == "confirmed"]
    assert confirmed.detail["note"].startswith("confirmé par téléphone le ")
    rows = json.loads(bot.cli("calls", "list", "--format", "json").stdout)
    assert [r["ref"] for r in rows] == [second]
    history = json.loads(bot.cli("calls", "list", "--all", "--format", "json").stdout)
    assert [(r["ref"], r["outcome"]) for r in history] == [(second, None), (first, "still_looking")]
    with bot.app.db.sessions() as session:
        alerts = {a.entry_id: a for a in session.scalars(select(Alert).where(
            Alert.kind == "call_list"))}
        assert alerts[found.id].resolved_at is not None
        assert alerts[entry(bot, second).id].resolved_at is None
        audit = session.scalars(select(AuditRecord).where(AuditRecord.action == "call.record")).one()
        assert audit.actor == "cli:Claire" and audit.after == {"outcome": "still_looking",
                                                               "attempt": 1}


def test_found_resolves_the_entry(bot: Bot) -> None:
    first, _second = _two_without_email(bot)
    bot.cli("calls", "record", first, "--outcome", "trouve", "--doctor", "Dr Petit")
    found = entry(bot, first)
    assert found.status == EntryStatus.RESOLVED and found.resolution == "a trouvé un médecin"
    [event] = [e for e in found.events if e.kind == "found_doctor"]
    assert event.detail == {"by": "téléphone", "doctor_name": "Dr Petit"}


def test_unreachable_and_wrong_number_keep_the_patient_on_the_list(bot: Bot) -> None:
    first, second = _two_without_email(bot)
    out = bot.cli("calls", "record", first, "--outcome", "injoignable")
    assert "reste sur la liste" in out.stdout
    rows = json.loads(bot.cli("calls", "list", "--format", "json").stdout)
    assert [r["ref"] for r in rows] == [second, first]  # the one not tried yet comes first
    assert rows[1]["attempts"] == 1 and rows[1]["last_outcome"] == "unreachable"
    bot.cli("calls", "record", first, "--outcome", "wrong-number")
    rows = json.loads(bot.cli("calls", "list", "--format", "json").stdout)
    assert rows[1]["attempts"] == 2 and rows[1]["last_outcome"] == "wrong_number"
    with bot.app.db.sessions() as session:
        alert = session.scalars(select(Alert).where(Alert.kind == "call_wrong_number")).one()
        assert alert.entry_id == entry(bot, first).id and "référent" in alert.reason
    assert entry(bot, first).status == EntryStatus.WAITING
    table = list(csv.DictReader(io.StringIO(bot.cli("calls", "list", "--format", "csv").stdout)))
    assert [r["ref"] for r in table] == [second, first] and table[1]["attempts"] == "2"


def test_usage_errors_are_clear(bot: Bot) -> None:
    first, _second = _two_without_email(bot)
    waiting = add_entry(bot, nom="LEROY")
    for args, words in (
            (("calls", "record", "E-ZZZZZZ", "--outcome", "found"), "aucune inscription"),
            (("calls", "record", waiting, "--outcome", "found"), "pas sur la liste"),
            (("calls", "record", first, "--outcome", "peut-être"), "inconnu"),
            (("calls", "record", first, "--outcome", "unreachable", "--doctor", "X"), "--doctor")):
        proc = bot.cli(*args, check=False)
        assert proc.returncode == 2, args
        assert words in proc.stderr and "Traceback" not in proc.stderr
    assert entry(bot, first).status == EntryStatus.WAITING


def test_entries_leaving_the_waitlist_leave_the_call_list(bot: Bot) -> None:
    first, second = _two_without_email(bot)
    with bot.app.db.transaction() as session:
        found = entries.get_by_ref(session, first)
        assert found is not None
        entries.set_status(session, found, EntryStatus.CLOSED, now=ASK, reason="déménagé")
    assert [r["ref"] for r in json.loads(bot.cli("calls", "list", "--format", "json").stdout)] == [
        second]
    recontact(bot, ASK + dt.timedelta(hours=1))  # the job tidies it
    history = json.loads(bot.cli("calls", "list", "--all", "--format", "json").stdout)
    assert {r["ref"]: r["outcome"] for r in history} == {first: "entry_left", second: None}


def test_api_for_the_digest_and_statistics(database: Database) -> None:
    now = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    with database.transaction() as session:
        one = entries.create_entry(session, fields={"nom": "A", "telephone": "+33545000001"},
                                   status=EntryStatus.WAITING, problems=[], now=now)
        two = entries.create_entry(session, fields={"nom": "B"}, status=EntryStatus.WAITING,
                                   problems=[], now=now)
        _item, created = calls.add(session, one, CallReason.NO_EMAIL, now=now)
        assert created
        assert calls.add(session, one, CallReason.NO_ANSWER, now=now)[1] is False  # one open item
        calls.add(session, two, CallReason.ADDRESS_FAILING, now=now, detail="statut 5.1.1")
        calls.record_call(session, two, CallOutcome.FOUND, now=now, actor="test")
    with database.sessions() as session:
        assert calls.counts(session) == {"no_email": 1}
        assert calls.outcome_counts(session) == {"found": 1}
        [row] = calls.call_list(session)
        assert (row.ref, row.reason, row.telephone, row.nom) == (one.ref, "no_email",
                                                                 "+33545000001", "A")
        both = calls.call_list(session, include_closed=True)
        assert [r.ref for r in both] == [one.ref, two.ref]
        assert both[1].detail == "statut 5.1.1" and both[1].outcome == "found"
        assert calls.entries_on_list(session) == {one.id}
    with database.transaction() as session:
        assert calls.close_for_entry(session, one.id, CallOutcome.ANSWERED_BY_MAIL, now=now)
        assert not calls.close_for_entry(session, one.id, CallOutcome.ANSWERED_BY_MAIL, now=now)
    with database.sessions() as session:
        assert calls.call_list(session) == []
        assert all(a.resolved_at for a in session.scalars(select(Alert).where(
            Alert.kind == "call_list")))
