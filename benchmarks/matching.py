"""Matching benchmark (issue 5): one full proposal round over 100 000 waiting entries × 1 000 GPs.

* **Set-up** (not timed): N waiting entries spread over 200 postal codes with
  varied ages and criteria, and G GPs serving one to three postal codes each
  (some a single commune), varied capacities, criteria and pauses — written
  with bulk inserts into a fresh SQLite file, or a fresh schema of the
  PostgreSQL given with ``--postgres URL``.
* **Baseline**, in the same run, in a fresh process: one indexed ``SELECT`` of
  every candidate (``status = 'waiting'`` ordered by registration date, index
  ``ix_entry_status_received``), all rows fetched.
* **Round**, for each policy, in a fresh process: the real
  ``mailbot.matching.round.run_round`` — every accepting GP with a free slot
  gets his best compatible entries, each proposal with its explanation, the
  entry's status change, audit rows, token and rendered mail in the outbox.
  The database is put back as it was between policies.

Peak RSS is the high-water mark (``VmHWM``) of the process that ran the
round, imports included. The last line is one JSON object: ``round_s`` and ``peak_rss_mb``
are the worst policy's, ``baseline_s`` the baseline's, ``backend`` the backend;
``round_cpu_s`` is the CPU time of the round's own process (on PostgreSQL the server's
share is not in it) and ``loadavg_1m`` the machine's load when the run ended.

    python benchmarks/matching.py [--entries 100000] [--gps 1000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mailbot.app import App  # noqa: E402
from mailbot.clock import PARIS, Clock  # noqa: E402
from mailbot.config import load_config  # noqa: E402
from mailbot.config.minimal import merged, minimal_sections, render_toml  # noqa: E402
from mailbot.matching.criteria import AGE_BANDS  # noqa: E402
from mailbot.matching.round import run_round  # noqa: E402
from mailbot.transports.maildir import ensure_maildir  # noqa: E402
from store.db import Database  # noqa: E402
from store.gps import commune_key  # noqa: E402
from store.models import Alert, AuditRecord, Entry, EntryEvent, EntryStatus, OutboxMessage, Token  # noqa: E402
from store.models_matching import GP, GPArea, Proposal  # noqa: E402

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=PARIS)
POLICIES = ("fifo", "criteria", "weighted")
CODES = [f"16{n:03d}" for n in range(200)]



def peak_rss_mb() -> float:
    """This process's peak resident set size (``VmHWM``: ``ru_maxrss`` would count the parent's)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average() -> float | None:
    """The machine's 1-minute load average (other processes slow a round down)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def write_config(folder: Path, database: dict[str, str], policy: str) -> Path:
    path = folder / "mailbot.toml"
    sections = merged(minimal_sections(database), {
        "matching": {"policy": policy, "mix_max_complex": 2}})
    del sections["senders"]
    path.write_text(render_toml(sections), encoding="utf-8")
    return path


def database_section(args: argparse.Namespace, folder: Path) -> dict[str, str]:
    """The ``[database]`` section: PostgreSQL with ``--postgres``, else a SQLite file."""
    if args.postgres:
        return {"url": args.postgres, "schema": args.schema}
    return {"url": f"sqlite:///{folder / 'bench.db'}"}


# ---------------------------------------------------------------- set-up


def _entry_rows(count: int, rng: random.Random) -> list[dict[str, Any]]:
    rows = []
    utc = NOW.astimezone(dt.UTC)
    for n in range(count):
        years = rng.choices([rng.randint(0, 5), rng.randint(6, 17), rng.randint(18, 69),
                             rng.randint(70, 95)], weights=[10, 10, 55, 25])[0]
        received = utc - dt.timedelta(seconds=rng.randint(0, 400 * 86400))
        rows.append({
            "ref": f"B-{n:07d}", "status": EntryStatus.WAITING, "received_at": received,
            "created_at": received, "updated_at": received, "status_changed_at": received,
            "problems": [], "nom": f"NOM{n}", "prenom": "Prénom", "consentement": True,
            "date_naissance": NOW.date() - dt.timedelta(days=years * 365 + rng.randint(0, 364)),
            "code_postal": rng.choice(CODES), "commune": f"Commune {rng.randint(1, 3)}",
            "telephone": "+33612345678", "email": f"p{n}@example.org" if rng.random() < 0.85 else None,
            "ald": rng.random() < 0.25, "css": rng.random() < 0.1, "ame": rng.random() < 0.03,
            "urgent": rng.random() < 0.05, "situation_complexe": rng.random() < 0.1,
            "mobilite_reduite": rng.random() < 0.06, "priority": False,
            "referrer_email": "coordination@dac16.mssante.fr", "referent_structure": "DAC 16",
        })
    return rows


def setup(args: argparse.Namespace, folder: Path) -> dict[str, float]:
    """Create the schema and fill it; return how long it took."""
    rng = random.Random(args.seed)
    started = time.perf_counter()
    config = load_config(write_config(folder, database_section(args, folder), "fifo"))
    db = Database(config.database.url, schema=config.database.schema_)
    db.migrate()
    ensure_maildir(folder / "var" / "inbox")
    ensure_maildir(folder / "var" / "outbox")
    rows = _entry_rows(args.entries, rng)
    with db.transaction() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Entry), rows[start:start + 5000])
        created = NOW.astimezone(dt.UTC) - dt.timedelta(days=400)
        for n in range(args.gps):
            bands = rng.choice([[], [], [], ["0-5", "6-17"], ["18-69", "70+"], ["6-17", "18-69"]])
            gp_id = session.execute(insert(GP).returning(GP.id), {
                "rpps": f"9{n:010d}", "nom": f"GP{n}", "prenom": "Paul",
                "email": f"gp{n}@medecin.mssante.fr", "cabinet": f"Cabinet {n}",
                "adresse": "1 rue des Lilas", "telephone": "+33545123456",
                "accepting": rng.random() < 0.9, "capacity_per_month": rng.randint(1, 5),
                "max_open_proposals": rng.randint(1, 3),
                "age_bands": [] if set(bands) >= set(AGE_BANDS) else bands,
                "accepts_ald": rng.random() < 0.9, "accepts_complex": rng.random() < 0.7,
                "home_visits": rng.random() < 0.4, "created_at": created, "updated_at": created,
                "accepting_changed_at": created}).scalar_one()
            for code in rng.sample(CODES, rng.randint(1, 3)):
                commune = f"Commune {rng.randint(1, 3)}" if rng.random() < 0.15 else None
                session.execute(insert(GPArea), {
                    "gp_id": gp_id, "code_postal": code, "commune": commune,
                    "commune_key": commune_key(commune) if commune else None})
    if db.is_postgres:
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    db.dispose()
    return {"setup_s": time.perf_counter() - started}


def reset(args: argparse.Namespace, folder: Path) -> None:
    """Put the database back as it was before a round."""
    config = load_config(folder / "mailbot.toml")
    db = Database(config.database.url, schema=config.database.schema_)
    with db.transaction() as session:
        for model in (Token, Alert, OutboxMessage, Proposal, EntryEvent, AuditRecord):
            session.execute(delete(model))
        session.execute(update(Entry).where(Entry.status != EntryStatus.WAITING)
                        .values(status=EntryStatus.WAITING))
    db.dispose()


# ---------------------------------------------------------------- measured, each in a fresh process


def child_baseline(folder: Path) -> dict[str, Any]:
    config = load_config(folder / "mailbot.toml")
    db = Database(config.database.url, schema=config.database.schema_)
    query = (select(Entry.id, Entry.received_at, Entry.code_postal, Entry.commune,
                    Entry.date_naissance, Entry.ald, Entry.css, Entry.ame, Entry.urgent,
                    Entry.situation_complexe, Entry.mobilite_reduite)
             .where(Entry.status == EntryStatus.WAITING).order_by(Entry.received_at, Entry.id))
    with db.sessions() as session:
        session.execute(select(Entry.id).limit(1)).all()  # connect outside the measure
        started = time.perf_counter()
        rows = session.execute(query).all()
        elapsed = time.perf_counter() - started
    db.dispose()
    return {"baseline_s": elapsed, "rows": len(rows), "peak_rss_mb": peak_rss_mb()}


def child_round(folder: Path) -> dict[str, Any]:
    config = load_config(folder / "mailbot.toml")
    app = App.from_config(config, clock=Clock(frozen=NOW))
    with app.db.sessions() as session:
        session.execute(select(Entry.id).limit(1)).all()
    rss_before = peak_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    report = run_round(app, NOW.astimezone(dt.UTC))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    app.db.dispose()
    return {"round_s": elapsed, "cpu_s": cpu, "plan_s": report.plan_s, "write_s": report.write_s,
            "proposals": report.proposals, "gps": report.gps,
            "limited_by": dict(report.limited_by), "rss_before_mb": rss_before,
            "peak_rss_mb": peak_rss_mb()}


def run_child(kind: str, folder: Path) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", kind, "--dir", str(folder)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--gps", type=int, default=1000)
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL URL (a schema is created, then dropped)")
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--child", choices=["baseline", "round"], help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folder = Path(args.dir)
        result = child_baseline(folder) if args.child == "baseline" else child_round(folder)
        print(json.dumps(result))
        return
    args.schema = f"bench_matching_{random.randrange(16**6):06x}"
    backend = "postgresql" if args.postgres else "sqlite"
    with tempfile.TemporaryDirectory(prefix="bench-matching-") as tmp:
        folder = Path(tmp)
        try:
            print(f"Backend {backend}: {args.entries} waiting entries, {args.gps} GPs")
            timing = setup(args, folder)
            print(f"  set-up (not measured): {timing['setup_s']:.1f} s")
            baseline = run_child("baseline", folder)
            print(f"  baseline, one indexed SELECT of every candidate: {baseline['baseline_s']:.3f} s "
                  f"({baseline['rows']} rows, peak RSS {baseline['peak_rss_mb']:.0f} MB)")
            results: dict[str, dict[str, Any]] = {}
            for policy in args.policies.split(","):
                write_config(folder, database_section(args, folder), policy)
                result = run_child("round", folder)
                results[policy] = result
                print(f"  round, policy {policy}: {result['round_s']:.2f} s "
                      f"(this process's CPU {result['cpu_s']:.2f} s; choosing "
                      f"{result['plan_s']:.2f} s, writing {result['write_s']:.2f} s), "
                      f"{result['proposals']} proposals to {result['gps']} available GPs, "
                      f"{result['round_s'] / baseline['baseline_s']:.1f} × baseline, "
                      f"peak RSS {result['peak_rss_mb']:.0f} MB "
                      f"(after imports and connection: {result['rss_before_mb']:.0f} MB)")
                reset(args, folder)
        finally:
            if args.postgres:
                admin = Database(args.postgres)
                with admin.engine.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE'))
                admin.dispose()
    worst = max(results.values(), key=lambda r: r["round_s"])
    summary = {
        "round_s": round(worst["round_s"], 3), "round_cpu_s": round(worst["cpu_s"], 3),
        "baseline_s": round(baseline["baseline_s"], 3),
        "ratio": round(worst["round_s"] / baseline["baseline_s"], 1),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in results.values()), 1),
        "backend": backend, "entries": args.entries, "gps": args.gps,
        "proposals": {p: r["proposals"] for p, r in results.items()},
        "round_s_by_policy": {p: round(r["round_s"], 3) for p, r in results.items()},
        "target_round_s": 5.0, "target_rss_mb": 300,
        "loadavg_1m": load_average(), "cpus": os.cpu_count(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
