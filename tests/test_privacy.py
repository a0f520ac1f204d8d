"""RGPD: anonymisation keeps the statistics, a person's export, erasure, an entry's story."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select, update

from mailbot.jobs.schedule import run_job
from mailbot.stats.report import build_report
from store.audit import verify_chain
from store.models import AuditRecord, Base, Entry, EntryStatus
from tests import test_stats_data as data
from tests.helpers import Bot
from tests.test_intake_e2e import DAC, mail
from tests.test_stats import PERIOD


def nir(first13: str) -> str:
    """A NIR with its control key."""
    return first13 + f"{97 - int(first13) % 97:02d}"


INS = nir("2480316015123")
PERSON = {
    "nom": "DURANDEAU", "prenom": "Mariette", "naissance": "12/03/1948",
    "telephone": "06 12 34 56 78", "mail": "mariette.durandeau@example.org",
    "adresse": "4 rue des Glycines", "motif": "suivi du diabète gestationnel ancien",
}
FORM = f"""Bonjour,
Nom : {PERSON['nom']}
Prénom : {PERSON['prenom']}
Date de naissance : {PERSON['naissance']}
INS : {INS}
Téléphone : {PERSON['telephone']}
Mail : {PERSON['mail']}
Adresse : {PERSON['adresse']}
Code postal : 16000
Commune : Angoulême
[x] ALD
Motif : {PERSON['motif']}
Consentement du patient : oui
"""
# What must not survive an erasure, in the forms it may be stored in.
TRACES = ["DURANDEAU", "Mariette", "1948-03-12", "12/03/1948", "0612345678", "+33612345678",
          "mariette.durandeau", "Glycines", "diabète gestationnel", INS]


def _report(bot: Bot) -> dict[str, Any]:
    with bot.app.db.sessions() as session:
        return build_report(session, PERIOD, now=data.NOW, public=False, mask_below=5,
                            cpts="CPTS Test", parallel=1)


def test_anonymisation_after_the_retention_period_keeps_every_statistic(bot: Bot) -> None:
    people = data.patients()
    data.build(bot.app.db, people)
    before = _report(bot)
    with bot.app.db.sessions() as session:
        born = {e.ref: e.date_naissance for e in session.scalars(select(Entry))}
    # Too early: nothing anonymised (default 24 months).
    assert run_job(bot.app, "retention", at=data.NOW + dt.timedelta(days=300)).endswith(
        "0 inscription(s) anonymisée(s)")
    later = data.NOW + dt.timedelta(days=3 * 365)
    done = sum(p.status in ("resolved", "closed") for p in people)
    assert done > 10
    assert run_job(bot.app, "retention", at=later).endswith(f"{done} inscription(s) anonymisée(s)")
    assert _report(bot) == before
    with bot.app.db.sessions() as session:
        rows = list(session.scalars(select(Entry)))
        assert verify_chain(session) == []
    for entry in rows:
        if entry.status in (EntryStatus.RESOLVED, EntryStatus.CLOSED):
            assert entry.nom is None and entry.prenom is None and entry.identity_key is None
            assert entry.date_naissance is None or entry.date_naissance != born[entry.ref]
            assert (entry.date_naissance is None) == (born[entry.ref] is None)
        else:
            assert entry.nom is not None and entry.date_naissance == born[entry.ref]
    # Run again: already anonymised entries are left alone.
    assert run_job(bot.app, "retention", at=later).endswith("0 inscription(s) anonymisée(s)")


def _dump(bot: Bot) -> str:
    """Every row of every table, as text."""
    parts = []
    with bot.app.db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                parts.append(repr(tuple(v.decode("utf-8", "replace") if isinstance(v, bytes) else v
                                        for v in row)))
    return "\n".join(parts)


def _ref(bot: Bot) -> str:
    with bot.app.db.sessions() as session:
        return str(session.scalars(select(Entry.ref)).one())


def test_export_then_erase_leaves_no_trace_and_the_chain_verifies(bot: Bot) -> None:
    bot.drop(mail(DAC, FORM, message_id="rgpd-1@dac16.mssante.fr"))
    bot.run_once()
    ref = _ref(bot)
    out = bot.root / "export.json"
    bot.cli("patient", "export", ref, "--output", str(out))
    [person] = json.loads(out.read_text(encoding="utf-8"))["entries"]
    assert person["entry"]["nom"] == "DURANDEAU" and person["entry"]["ins"] == INS
    assert "DURANDEAU" in person["mails_received"][0]["raw"]
    assert person["mails_sent"] and person["mails_sent"][0]["kind"]
    assert {r["action"] for r in person["audit"]} >= {"entry.create", "inbound.finish"}
    assert any(e["kind"] == "created" for e in person["history"])
    by_ins = json.loads(bot.cli("patient", "export", "--ins", INS[:13]).stdout)
    assert [p["entry"]["ref"] for p in by_ins["entries"]] == [ref]
    unknown = bot.cli("patient", "export", "--ins", nir("1990116015123"), check=False)
    assert unknown.returncode == 2 and "aucune inscription" in unknown.stderr

    from store.models_security import ForgedToken

    with bot.app.db.transaction() as session:  # she once answered with a stale token
        session.add(ForgedToken(address=PERSON["mail"], kind="replayed", at=data.NOW))
    refused = bot.cli("patient", "erase", ref, check=False)  # no terminal, no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert "DURANDEAU" in _dump(bot) and PERSON["mail"] in _dump(bot)
    done = bot.cli("patient", "erase", ref, "--yes")
    assert f"{ref} effacée" in done.stdout
    dump = _dump(bot)
    assert [t for t in TRACES if t.lower() in dump.lower()] == []
    assert "intacte" in bot.cli("audit", "verify").stdout
    with bot.app.db.sessions() as session:
        entry = session.scalars(select(Entry)).one()
        assert entry.status == EntryStatus.CLOSED and entry.code_postal == "16000" and entry.ald
        actions = [r.action for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id))]
    assert actions[-1] == "entry.erased"
    again = bot.cli("patient", "erase", ref, "--yes", check=False)
    assert again.returncode == 2 and "déjà effacée" in again.stderr
    story = bot.cli("audit", "show", ref).stdout
    assert "effacée à la demande" in story and "inscription créée" in story


def test_dry_run_lists_then_the_job_anonymises_and_audit_show_tells_the_story(bot: Bot) -> None:
    bot.drop(mail(DAC, FORM, message_id="rgpd-2@dac16.mssante.fr"))
    bot.run_once()
    ref = _ref(bot)
    bot.cli("entries", "close", ref, "--reason", "déménagé")
    story = bot.cli("audit", "show", ref).stdout
    assert "inscription créée" in story and "<rgpd-2@dac16.mssante.fr>" in story
    assert f"de {DAC}" in story and "status=closed" in story and "cli:" in story
    assert "DURANDEAU" not in story
    assert f"{ref} :" not in bot.cli("retention", "--dry-run").stdout  # closed today: too early
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
    with bot.app.db.transaction() as session:
        session.execute(update(Entry).values(resolved_at=old))
    planned = bot.cli("retention", "--dry-run").stdout
    assert "Simulation" in planned and f"{ref} : clôturée le {old:%d/%m/%Y}" in planned
    assert "1 inscription(s) à anonymiser" in planned
    assert "DURANDEAU" in _dump(bot)  # a dry run changes nothing
    assert "1 inscription(s) anonymisée(s)" in bot.cli("retention").stdout
    dump = _dump(bot)
    assert [t for t in TRACES if t.lower() in dump.lower()] == []
    assert "anonymisée" in bot.cli("audit", "show", ref).stdout


def test_anonymisation_delay_is_validated_in_french(bot: Bot) -> None:
    path = bot.config_path
    config = path.read_text(encoding="utf-8")
    assert "[intake]" not in config
    path.write_text(config + "\n[intake]\nanonymise_after_months = 0\n", encoding="utf-8")
    proc = bot.cli("retention", "--dry-run", check=False)
    assert proc.returncode == 2
    assert "anonymise_after_months" in proc.stderr and "supérieur ou égal à 1" in proc.stderr


def test_erasing_an_entry_offered_to_a_gp_withdraws_the_offer_and_sends_nothing_about_her(
        bot: Bot) -> None:
    from mailbot.privacy.erase import erase
    from store.models import OutboxMessage
    from store.models_matching import Proposal
    from tests.test_matching_support import T0, add_entry, add_gp

    with bot.app.db.transaction() as session:
        add_gp(session, 1)
        add_entry(session, 0, received=T0 - dt.timedelta(days=40), nom="DURANDEAU",
                  prenom="Mariette", email=PERSON["mail"])
    run_job(bot.app, "proposals", at=T0)
    ref = _ref(bot)
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Entry.status)).one() == EntryStatus.PROPOSED
    counts = erase(bot.app, ref, actor="cli:dpo", now=T0 + dt.timedelta(hours=1))
    assert counts["proposals"] == 1 and counts["outbox"] >= 1
    with bot.app.db.sessions() as session:
        assert session.scalars(select(Proposal.state)).one() == "cancelled"
        pending = session.scalars(select(OutboxMessage).where(OutboxMessage.state == "pending")).all()
        assert [m for m in pending if m.entry_id is not None] == []
        assert verify_chain(session) == []
    dump = _dump(bot)
    assert [t for t in ("DURANDEAU", "Mariette", "mariette.durandeau") if t.lower() in dump.lower()] == []
