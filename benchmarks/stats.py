"""Benchmark of ``mailbot stats``: 1 000 000 entries on PostgreSQL, 200 000 on SQLite.

Each database gets synthetic entries with their history (``entry_event``:
creation, status changes), spread over five years with realistic shares of
statuses, criteria, referrers and communes. The figures are computed in a
fresh child process (so its peak RSS is the report's, not the generator's),
three times, keeping the median, and compared with a baseline measured in the
same process: one ``SELECT status, COUNT(*) FROM entry GROUP BY status``.

    python benchmarks/stats.py                      # both backends, default sizes
    python benchmarks/stats.py --pg-rows 100000 --sqlite-rows 20000

The last line printed is one JSON object:
``postgres_1m_s``, ``sqlite_200k_s``, ``baseline_s``, ``peak_rss_mb`` (and details).
Target: ``postgres_1m_s`` < 3.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from store.db import Database  # noqa: E402

PG_URL = os.environ.get("MAILBOT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)
YEARS = 5

ENTRY_COLUMNS = (
    "id", "ref", "status", "received_at", "created_at", "updated_at", "status_changed_at",
    "referrer_email", "referrer_name", "source_message_id", "identity_key", "problems", "nom",
    "prenom", "date_naissance", "sexe", "ins", "telephone", "email", "adresse", "code_postal",
    "commune", "ald", "css", "ame", "mobilite_reduite", "situation_complexe", "urgent", "motif",
    "consentement", "referent_nom", "referent_structure", "priority", "confirmed_at",
    "resolved_at", "resolution", "closed_reason",
)
EVENT_COLUMNS = ("id", "entry_id", "at", "kind", "detail")

REFERRERS = (
    [(f"coord{i}@dac16.mssante.fr", "DAC 16") for i in range(20)]
    + [(f"service{i}@ch-angouleme.mssante.fr", "CH Angoulême") for i in range(60)]
    + [(f"agent{i}@cpam-charente.mssante.fr", "CPAM de la Charente") for i in range(10)]
    + [(f"officine{i}@pharmacien.mssante.fr", f"Pharmacie n°{i}") for i in range(50)]
    + [(f"ide{i}@infirmier.mssante.fr", "Cabinet infirmier") for i in range(40)]
    + [(f"as{i}@ccas-exemple.fr", "CCAS") for i in range(20)]
)
COMMUNES = [(f"16{i:03d}", f"Commune {i}") for i in range(0, 400, 8)]
NAMES = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND",
         "LEROY", "MOREAU", "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID"]
FIRST = ["Marie", "Jean", "Pierre", "Louise", "Paul", "Jeanne", "Lucas", "Emma", "Hugo", "Léa"]
RESOLVED = ["devenu médecin traitant", "a trouvé un médecin seul (recontact)"]
CLOSED = ["décédé", "déménagé", "injoignable", "retrait du patient", "doublon"]
MOTIF = ("Médecin traitant parti à la retraite, suivi diabète et hypertension, "
         "renouvellements d'ordonnance en attente.")
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _ref(i: int) -> str:
    code = ""
    for _ in range(6):
        i, r = divmod(i, 32)
        code = ALPHABET[r] + code
    return "E-" + code


def _ts(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def synth(n: int, seed: int = 7) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """``n`` entries and their events, as rows in :data:`ENTRY_COLUMNS` / :data:`EVENT_COLUMNS` order."""
    rnd = random.Random(seed)
    span = YEARS * 365 * 86400
    entries, events = [], []
    event_id = 0
    for i in range(1, n + 1):
        received = NOW - dt.timedelta(seconds=rnd.randrange(span))
        age_days = (NOW - received).days
        born = (received - dt.timedelta(days=rnd.randrange(0, 95 * 365))).date()
        email, structure = rnd.choice(REFERRERS)
        cp, town = rnd.choice(COMMUNES)
        roll = rnd.random()
        status, resolved_at, resolution, closed_reason = "waiting", None, None, None
        history: list[tuple[dt.datetime, str, str]] = []
        if roll < 0.04:
            status = "incomplete"
        elif roll < 0.5 and age_days > 20:
            resolved_at = received + dt.timedelta(days=rnd.randrange(10, min(age_days, 600)))
            if rnd.random() < 0.8:
                status, resolution = "resolved", rnd.choice(RESOLVED)
                history += [(received + (resolved_at - received) / 2, "waiting", "proposed"),
                            (received + (resolved_at - received) * 3 / 4, "proposed", "matched")]
            else:
                status, closed_reason = "closed", rnd.choice(CLOSED)
        elif roll < 0.55:
            status = "proposed"
            history.append((received + dt.timedelta(days=age_days // 2), "waiting", "proposed"))
        if resolved_at is not None:
            before = history[-1][2] if history else "waiting"
            history.append((resolved_at, before, status))
        confirmed = (received + dt.timedelta(days=rnd.randrange(0, max(age_days, 1)))
                     if status in ("waiting", "proposed") and rnd.random() < 0.6 else None)
        nom, prenom = rnd.choice(NAMES), rnd.choice(FIRST)
        changed = history[-1][0] if history else received
        entries.append((
            i, _ref(i), status, _ts(received), _ts(received), _ts(changed), _ts(changed), email,
            "Dr Référent", f"m{i}@bench", f"{nom}|{prenom.upper()}|{born.isoformat()}", "[]",
            nom, prenom, born.isoformat(), rnd.choice("FM"), None, f"+336{i:08d}"[:12], None,
            f"{i} rue de la République", cp, town, rnd.random() < 0.3, rnd.random() < 0.1,
            rnd.random() < 0.02, rnd.random() < 0.08, rnd.random() < 0.08, rnd.random() < 0.03,
            MOTIF, True, "Dr Référent", structure, False, _ts(confirmed), _ts(resolved_at),
            resolution, closed_reason,
        ))
        event_id += 1
        events.append((event_id, i, _ts(received), "created", '{"fields": [], "problems": []}'))
        for at, before, after in history:
            event_id += 1
            events.append((event_id, i, _ts(at), "status",
                           json.dumps({"from": before, "to": after, "reason": None})))
        if confirmed is not None:
            event_id += 1
            events.append((event_id, i, _ts(confirmed), "confirmed",
                           '{"by": "le patient", "note": null}'))
    return entries, events


def _csv_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def populate(db: Database, n: int, chunk: int = 100_000) -> float:
    """Fill an empty, migrated database with ``n`` entries and their events; return seconds."""
    started = time.perf_counter()
    for offset in range(0, n, chunk):
        entries, events = synth(min(chunk, n - offset), seed=offset + 1)
        entries = [(row[0] + offset, _ref(row[0] + offset), *row[2:]) for row in entries]
        base_event = offset * 5
        events = [(e[0] + base_event, e[1] + offset, *e[2:]) for e in events]
        if db.is_postgres:
            _copy(db, "entry", ENTRY_COLUMNS, entries)
            _copy(db, "entry_event", EVENT_COLUMNS, events)
        else:
            with db.engine.begin() as conn:
                raw = conn.connection.driver_connection
                assert raw is not None
                marks = ", ".join("?" * len(ENTRY_COLUMNS))
                raw.executemany(f"INSERT INTO entry ({', '.join(ENTRY_COLUMNS)}) VALUES ({marks})",
                                entries)
                raw.executemany(f"INSERT INTO entry_event ({', '.join(EVENT_COLUMNS)}) "
                                "VALUES (?, ?, ?, ?, ?)", events)
    # A live database is vacuumed and analysed by autovacuum; do it once here.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if db.is_postgres:
            conn.execute(text("VACUUM ANALYZE entry"))
            conn.execute(text("VACUUM ANALYZE entry_event"))
        else:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def _copy(db: Database, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_csv_value(v) for v in row))
        buffer.write("\n")
    with db.engine.begin() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())


# ---------------------------------------------------------------- measurement (child process)

def measure(url: str, schema: str | None, runs: int) -> dict[str, Any]:
    """Time the baseline and the full report in this process; return the figures."""
    from zoneinfo import ZoneInfo

    from mailbot.stats.render_html import render_html
    from mailbot.stats.report import build_report, period_for

    db = Database(url, schema=schema)
    tz = ZoneInfo("Europe/Paris")
    baseline, full, public, html = [], [], [], []
    with db.sessions() as session:
        session.execute(text("SELECT 1"))
        for _ in range(runs):
            t0 = time.perf_counter()
            session.execute(text("SELECT status, COUNT(*) FROM entry GROUP BY status")).all()
            baseline.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            period = period_for(session, None, None, now=NOW, tz=tz)
            report = build_report(session, period, now=NOW, public=False, mask_below=5, cpts="B")
            full.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            build_report(session, period, now=NOW, public=True, mask_below=5, cpts="B")
            public.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            render_html(report)
            html.append(time.perf_counter() - t0)
    server_cpu = server_cpu_seconds(db, period) if db.is_postgres else None
    db.dispose()
    return {
        "server_cpu_s": server_cpu,
        "baseline_s": statistics.median(baseline), "stats_s": statistics.median(full),
        "public_s": statistics.median(public), "html_s": statistics.median(html),
        "entries": report["snapshot"]["entries_by_status"],
        "peak_rss_mb": peak_rss_mb(),
    }


def server_cpu_seconds(db: Database, period: Any) -> float | None:
    """CPU time the PostgreSQL server spends on the report's queries, run one after the other
    on one backend without parallel workers (read from /proc: the server must be local).

    Unlike wall time it hardly depends on what else the machine runs.
    """
    from mailbot.stats import cubes
    from mailbot.stats.sql import Dialect

    tick = os.sysconf("SC_CLK_TCK")

    def cpu(pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    with db.engine.connect() as conn:
        pid = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        if not Path(f"/proc/{pid}/stat").exists():
            return None
        for setting in (*cubes.PG_SETTINGS, "max_parallel_workers_per_gather = 0"):
            conn.execute(text(f"SET {setting}"))
        scope = cubes.Scope(Dialect("postgresql"), period, NOW)
        started = cpu(pid)
        for job in cubes.QUERIES.values():
            job(conn, scope)
        return round(cpu(pid) - started, 2)


def peak_rss_mb() -> float:
    """This process's peak resident memory (``VmHWM``: unlike ``ru_maxrss`` it starts afresh
    at ``exec``, so the generator's memory in the parent does not count)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def _child(url: str, schema: str | None, runs: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--measure", url, "--runs", str(runs)]
    if schema:
        cmd += ["--schema", schema]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _bench(label: str, url: str, schema: str | None, rows: int, runs: int) -> dict[str, Any]:
    db = Database(url, schema=schema)
    if schema:
        with db.engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    db.migrate()
    print(f"{label}: generating {rows:,} entries with their history…", flush=True)
    seconds = populate(db, rows)
    db.dispose()
    print(f"{label}: generated in {seconds:.1f} s", flush=True)
    result = _child(url, schema, runs)
    total = sum(result["entries"].values())
    assert total == rows, (total, rows)
    if result.get("server_cpu_s") is not None:
        print(f"{label}: the report's queries cost the server {result['server_cpu_s']:.2f} CPU-s "
              "(one after the other, no parallel worker)", flush=True)
    print(f"{label}: baseline (COUNT(*) GROUP BY status) {result['baseline_s']:.3f} s, "
          f"full stats {result['stats_s']:.3f} s ({result['stats_s'] / result['baseline_s']:.1f}× "
          f"baseline), public {result['public_s']:.3f} s, HTML rendering {result['html_s']:.3f} s, "
          f"peak RSS {result['peak_rss_mb']:.0f} MB",
          flush=True)
    return result


def main() -> None:
    """Run the benchmark (or, with ``--measure``, one measurement as a child process)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--pg-rows", type=int, default=1_000_000)
    parser.add_argument("--sqlite-rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.schema, args.runs)))
        return

    schema = f"mailbot_bench_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        pg = _bench("PostgreSQL", args.pg_url, schema, args.pg_rows, args.runs)
    finally:
        admin = Database(args.pg_url)
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    with tempfile.TemporaryDirectory() as folder:
        sq = _bench("SQLite", f"sqlite:///{folder}/bench.db", None, args.sqlite_rows, args.runs)
    print(json.dumps({
        "postgres_1m_s": round(pg["stats_s"], 3), "sqlite_200k_s": round(sq["stats_s"], 3),
        "baseline_s": round(pg["baseline_s"], 3), "peak_rss_mb": round(max(pg["peak_rss_mb"],
                                                                          sq["peak_rss_mb"]), 1),
        "sqlite_baseline_s": round(sq["baseline_s"], 3),
        "postgres_ratio": round(pg["stats_s"] / pg["baseline_s"], 1),
        "sqlite_ratio": round(sq["stats_s"] / sq["baseline_s"], 1),
        "postgres_public_s": round(pg["public_s"], 3), "sqlite_public_s": round(sq["public_s"], 3),
        "html_render_s": round(pg["html_s"], 3), "postgres_server_cpu_s": pg["server_cpu_s"],
        "load_avg": round(os.getloadavg()[0], 2),
        "postgres_rows": args.pg_rows, "sqlite_rows": args.sqlite_rows,
    }))


if __name__ == "__main__":
    main()
