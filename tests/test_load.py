"""The load and fault test (issue 14), at a reduced size, and its checker on crafted rows.

``benchmarks/load.py --small`` runs three real daemons on PostgreSQL with a real Dovecot
(LMTP in, IMAP for the bot) and an aiosmtpd sink, kills one daemon, cuts the bot's
database connections and has the sink refuse for a while; its last line says what was
lost or duplicated. The checker itself is tested on rows written by hand, so that a
lost mail, a mail sent twice or an entry created twice cannot go unseen.
"""

from __future__ import annotations

import datetime as dt
import email
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import insert

from benchmarks.load_check import (
    _duplicates,
    _inbound,
    _outgoing,
    latencies,
    percentile,
    stuck_count,
)
from benchmarks.load_mails import MIX, Mix
from benchmarks.load_seed import Asked
from benchmarks.load_servers import Arrival
from store.db import Database
from store.models import Entry, InboundMessage, OutboxMessage

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)


@pytest.mark.slow
def test_three_daemons_under_faults_lose_nothing() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load.py"), "--small"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    report, checks, summary = (json.loads(line) for line in lines[-3:])
    # Every fault happened: a daemon killed (exit -9) and restarted, connections cut, refusals.
    assert ["daemon-1#1", -9] in report["exit_codes"] and "daemon-1#2" in report["peak_rss_by_daemon"]
    assert {f["fault"].split()[0] for f in report["faults"]["faults"]} == {
        "sigkill", "restart", "pg_terminate_backend", "sink"}
    assert next(f["result"] for f in report["faults"]["faults"]
                if f["fault"] == "pg_terminate_backend") >= 1
    assert report["sink_refused"] > 0 and report["crashed"] == [] and report["faults"]["drained"]
    assert set(report["kinds"]) == {"referral", *MIX}
    # Nothing lost; nothing left unprocessed once a daemon restarted (a mail whose batch
    # failed can stay stored, not final, until then: counted in stuck_before_restart);
    # every mail the outbox sent arrived exactly once; the audit chain holds.
    assert summary["lost"] == 0 and summary["stuck"] == 0, checks
    assert checks["inbound"]["delivered"] == summary["mails"]
    out = checks["outgoing"]
    assert out["delivered_once"] == out["expected"] > 0 and out["duplicated_at_sink"] == 0
    assert out["unknown_at_sink"] == 0 and out["failed"] == 0
    assert summary["audit_ok"], checks["audit"]
    assert checks["duplicated_by_kind"]["proposals"] == 0
    # One mailbox reader (the leader) and leased claims: no mail stored or processed twice,
    # no entry, proposal or outgoing mail duplicated.
    assert summary["duplicated"] == 0, summary["duplicated_by_kind"]
    for key in ("p50_s", "p99_s", "per_s_1", "per_s_2", "per_s_3", "scale_3_over_1",
                "peak_rss_mb", "pg_cpu_share", "uncertain"):
        assert summary[key] is not None, key
    assert 0 < summary["p50_s"] <= summary["p99_s"] and 20 < summary["peak_rss_mb"] < 1000


def test_the_mix_gives_every_mail_one_message_id_of_its_own() -> None:
    asked = [Asked("recontact", f"p{i}@example.org", f"<q{i}@cpts>", f"CPTS-R-{i:014d}")
             for i in range(300)] + [
        Asked("proposal", f"dr{i}@medecin.mssante.fr", f"<p{i}@cpts>", f"CPTS-P-{i:014d}")
        for i in range(100)]
    mails = Mix(asked).take(1500)
    assert {m.kind for m in mails} == {"referral", *MIX}
    for mail in mails:
        assert email.message_from_bytes(mail.raw).get_all("Message-ID") == [mail.message_id]
    assert len({m.message_id for m in mails}) == len(mails)
    assert all(m.envelope_from == "" for m in mails if m.kind == "bounce")
    assert all("@" in m.envelope_from for m in mails if m.kind != "bounce")


def _inbound_row(message_id: str, state: str) -> dict[str, object]:
    return {"transport_key": "1:1", "message_id": message_id, "sha256": "0" * 64,
            "received_at": NOW, "size": 1, "state": state}


def _outbox_row(message_id: str, inbound_id: int | None, state: str = "sent",
                started: bool = False, error: str | None = None) -> dict[str, object]:
    return {"message_id": message_id, "created_at": NOW, "kind": "ack_registered",
            "sender": "bot@cpts.test", "recipients": ["p@dac.test"], "recipient": "p@dac.test",
            "raw": b"x", "state": state, "next_attempt_at": NOW, "inbound_message_id": inbound_id,
            "attempt_started_at": NOW if started else None, "last_error": error}


def test_the_checker_sees_lost_twice_processed_and_duplicated_mails(database: Database) -> None:
    from mailbot.outbound.delivery import UNCERTAIN

    with database.transaction() as session:
        rows = [("load-1@r", "processed"), ("load-2@r", "processed"), ("load-2@r", "duplicate"),
                ("load-3@r", "processed"), ("load-3@r", "processed"), ("load-4@r", "received"),
                ("load-6@r", "duplicate")]
        ids = [session.execute(insert(InboundMessage).values(_inbound_row(m, s))
                               .returning(InboundMessage.id)).scalar_one() for m, s in rows]
        session.execute(insert(OutboxMessage), [
            _outbox_row("<a@bot>", ids[0]), _outbox_row("<b@bot>", ids[3]),
            _outbox_row("<c@bot>", ids[4]), _outbox_row("<d@bot>", None),
            _outbox_row("<e@bot>", None, "pending", started=True),
            _outbox_row("<f@bot>", None, "failed", error=UNCERTAIN),
            _outbox_row("<g@bot>", None, "pending")])
        for n in (1, 2):
            session.execute(insert(Entry).values(
                ref=f"E-AAAA{n}A", status="waiting", received_at=NOW, created_at=NOW,
                updated_at=NOW, status_changed_at=NOW, problems=[], nom="DUPONT", prenom="Léa",
                source_message_id="load-3@r"))
    delivered = {"load-1@r", "load-2@r", "load-3@r", "load-4@r", "load-5@r", "load-6@r"}
    inbound = _inbound(database, delivered)
    assert (inbound["lost"], inbound["stuck"], inbound["processed_twice"], inbound["duplicated"],
            inbound["duplicate_rows"]) == (2, 1, 1, 2, 2)
    assert stuck_count(database) == 1
    arrivals = [Arrival("<a@bot>", "<load-1@r>", 1.0), Arrival("<b@bot>", None, 2.0),
                Arrival("<b@bot>", None, 2.5), Arrival("<z@bot>", None, 3.0)]
    out = _outgoing(database, arrivals)
    assert (out["expected"], out["delivered_once"], out["lost"], out["duplicated_at_sink"],
            out["uncertain"], out["unknown_at_sink"]) == (4, 1, 3, 1, 2, 1)
    duplicates = _duplicates(database)
    assert (duplicates["entries"], duplicates["entries_same_source"],
            duplicates["outgoing"]) == (1, 1, 1)
    assert latencies({"load-1@r": 0.25}, arrivals, {"load-1@r"}) == [0.75]
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0 and percentile([], 0.99) is None
