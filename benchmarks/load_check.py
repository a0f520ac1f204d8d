"""The end of ``benchmarks/load.py``: what the database and the sink say about every mail.

* Every delivered inbound mail has exactly one row in a terminal state other than
  ``duplicate``; further rows of the same mail (fetched again by another daemon, while
  several daemons read the mailbox) are counted as duplicated inbound mails.
* No entry (same patient), proposal (same entry and GP), or outgoing mail (same inbound
  mail and kind, or same Message-ID twice at the sink) is duplicated.
* Every outgoing mail the outbox holds is delivered exactly once by Message-ID, unless it is
  *uncertain*: its send was interrupted by the kill (counted apart, never resent).
* The audit chain is intact (``mailbot audit verify``).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import text

from benchmarks.load_servers import Arrival
from mailbot.outbound.delivery import UNCERTAIN
from store.db import Database


def bare(message_id: str | None) -> str:
    """A Message-ID without angle brackets or case (the form both sides compare)."""
    return (message_id or "").strip().strip("<>").lower()


def terminal_count(db: Database) -> int:
    """How many distinct delivered mails (``load-…``) reached a terminal state."""
    with db.engine.connect() as connection:
        return int(connection.execute(text(
            "SELECT count(DISTINCT message_id) FROM inbound_message "
            "WHERE state <> 'received' AND message_id LIKE '%load-%'")).scalar_one())


def stuck_count(db: Database) -> int:
    """Delivered mails stored but in no final state (``received``, and not processed under
    another row either)."""
    with db.engine.connect() as connection:
        return int(connection.execute(text(
            "SELECT count(DISTINCT message_id) FROM inbound_message AS r WHERE state = "
            "'received' AND message_id LIKE '%load-%' AND NOT EXISTS (SELECT 1 FROM "
            "inbound_message AS o WHERE o.message_id = r.message_id "
            "AND o.state NOT IN ('received', 'duplicate'))")).scalar_one())


def outbox_waiting(db: Database) -> int:
    """Outgoing mails still to send (those whose send was interrupted aside)."""
    with db.engine.connect() as connection:
        return int(connection.execute(text(
            "SELECT count(*) FROM outbox WHERE state = 'pending' "
            "AND attempt_started_at IS NULL")).scalar_one())


def _inbound(db: Database, delivered: set[str]) -> dict[str, Any]:
    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT message_id, state FROM inbound_message WHERE message_id LIKE '%load-%'")).all()
    states: dict[str, list[str]] = {}
    for message_id, state in rows:
        states.setdefault(bare(message_id), []).append(state)
    # Lost: no row of its own ("duplicate" rows point at another row, and no two mails of
    # the run are alike). Stuck: stored, never brought to a final state.
    lost = [m for m in delivered
            if not any(x != "duplicate" for x in states.get(m, []))]
    stuck = [m for m in delivered if "received" in states.get(m, [])
             and not any(x not in ("received", "duplicate") for x in states[m])]
    twice = [m for m, s in states.items() if sum(x not in ("received", "duplicate") for x in s) > 1]
    refetched = [m for m, s in states.items() if len(s) > 1]
    final = Counter(next((x for x in s if x not in ("received", "duplicate")), "not final")
                    for m, s in states.items() if m in delivered)
    return {"delivered": len(delivered), "lost": len(lost),
            "lost_sample": [_why(db, m) for m in sorted(lost)[:5]], "stuck": len(stuck),
            "stuck_sample": [_why(db, m) for m in sorted(stuck)[:5]],
            "processed_twice": len(twice), "duplicated": len(refetched),
            "duplicate_rows": sum(s.count("duplicate") for s in states.values()),
            "states": dict(final), "unknown": len(set(states) - delivered)}


def _why(db: Database, message_id: str) -> dict[str, Any]:
    """A lost mail's rows, and the row each ``duplicate`` one points at (for the report)."""
    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT d.id, d.state, d.reason, p.id, p.message_id, p.state FROM inbound_message "
            "AS d LEFT JOIN inbound_message AS p ON p.id = d.duplicate_of "
            "WHERE lower(d.message_id) LIKE :m"), {"m": f"%{message_id}%"}).all()
    return {"message_id": message_id, "rows": [
        {"id": r[0], "state": r[1], "reason": r[2], "duplicate_of": r[3],
         "of_message_id": r[4], "of_state": r[5]} for r in rows]}


def _scalar(db: Database, sql: str) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one() or 0)


def _duplicates(db: Database) -> dict[str, int]:
    """Rows beyond the first of each group that must be unique."""
    groups = {
        # The same patient twice: names, first names and birth dates are unique in the run.
        "entries": "SELECT count(*) AS n FROM entry WHERE nom IS NOT NULL "
                   "GROUP BY nom, prenom, date_naissance",
        "entries_same_source": "SELECT count(*) AS n FROM entry WHERE source_message_id IS NOT "
                               "NULL GROUP BY source_message_id",
        "proposals": "SELECT count(*) AS n FROM proposal GROUP BY entry_id, gp_id",
        # The same answer about the same entry to the same mail, by its Message-ID (a mail
        # stored and processed twice counts; a decline followed by several new proposals
        # to the same GP, each about another entry, does not).
        "outgoing": "SELECT count(*) AS n FROM outbox AS o JOIN inbound_message AS i "
                    "ON i.id = o.inbound_message_id "
                    "GROUP BY i.message_id, o.kind, o.entry_id, o.recipient",
    }
    return {name: _scalar(db, f"SELECT coalesce(sum(n - 1), 0) FROM ({sql}) AS g WHERE n > 1")
            for name, sql in groups.items()}


def _outgoing(db: Database, arrivals: list[Arrival]) -> dict[str, Any]:
    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT message_id, state, last_error, attempt_started_at IS NOT NULL "
            "FROM outbox")).all()
    at_sink = Counter(bare(a.message_id) for a in arrivals)
    outbox_ids = {bare(r[0]) for r in rows}
    uncertain = [r for r in rows if (r[1] == "failed" and r[2] == UNCERTAIN)
                 or (r[1] == "pending" and r[3])]
    expected = [r for r in rows if r[1] == "sent"]
    return {
        "expected": len(expected),
        "delivered_once": sum(at_sink[bare(r[0])] == 1 for r in expected),
        "lost": sum(at_sink[bare(r[0])] == 0 for r in expected)
                + sum(r[1] == "pending" and not r[3] for r in rows),
        "duplicated_at_sink": sum(n - 1 for n in at_sink.values() if n > 1),
        "uncertain": len(uncertain),
        "uncertain_at_sink": sum(at_sink[bare(r[0])] > 0 for r in uncertain),
        "failed": sum(r[1] == "failed" and r[2] != UNCERTAIN for r in rows),
        "refused": sum(r[1] == "refused" for r in rows),
        "unknown_at_sink": sum(1 for m in at_sink if m not in outbox_ids),
        "states": dict(Counter(r[1] for r in rows)),
    }


def audit_verify(config: Path) -> tuple[bool, str]:
    """``mailbot audit verify``: (intact, its last output line)."""
    done = subprocess.run([sys.executable, "-m", "mailbot", "--config", str(config), "audit",
                           "verify"], capture_output=True, text=True, timeout=600)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode == 0, lines[-1] if lines else ""


def check(db: Database, delivered: set[str], arrivals: list[Arrival], config: Path) -> dict[str, Any]:
    """Every check of the run; ``lost`` and ``duplicated`` sum over mails, entries, proposals
    and outgoing mails."""
    inbound = _inbound(db, delivered)
    duplicates = _duplicates(db)
    outgoing = _outgoing(db, arrivals)
    intact, said = audit_verify(config)
    duplicated = {"inbound": inbound["duplicated"], "inbound_processed_twice":
                  inbound["processed_twice"], **duplicates,
                  "outgoing_at_sink": outgoing["duplicated_at_sink"]}
    return {"inbound": inbound, "outgoing": outgoing, "duplicated_by_kind": duplicated,
            "lost": inbound["lost"] + outgoing["lost"],
            # a mail processed twice is one duplicated mail; an entry created twice, one entry
            "duplicated": (inbound["duplicated"] + max(duplicates["entries"],
                                                       duplicates["entries_same_source"])
                           + duplicates["proposals"] + duplicates["outgoing"]
                           + outgoing["duplicated_at_sink"]),
            "stuck": inbound["stuck"], "uncertain": outgoing["uncertain"], "audit_ok": intact,
            "audit": said}


def latencies(delivered: dict[str, float], arrivals: list[Arrival], ids: set[str]) -> list[float]:
    """Seconds from delivery into Dovecot to the first reply at the sink (``In-Reply-To``),
    for the mails ``ids`` that were answered."""
    first: dict[str, float] = {}
    for arrival in arrivals:
        key = bare(arrival.in_reply_to)
        if key in ids and key not in first:
            first[key] = arrival.at
    return sorted(first[m] - delivered[m] for m in first if m in delivered)


def percentile(values: list[float], share: float) -> float | None:
    """The ``share`` percentile (nearest rank) of sorted ``values``."""
    if not values:
        return None
    rank = max(0, min(len(values) - 1, round(share * len(values) + 0.5) - 1))
    return values[rank]
