"""Benchmark of ``mailbot import``: a 100 000-row XLSX waitlist into a fresh database.

The workbook looks like a CPTS's (French headers, Excel dates, statuses as
people write them, merged title row, a "Total" row). Measured in the same run:

* baseline: reading every row of the workbook with openpyxl (read-only, values);
* planning: reading and checking every row (what ``--dry-run`` does before the database);
* import: the real import on SQLite (and PostgreSQL with ``--postgres``).

    python benchmarks/import.py [--rows 100000] [--postgres]

The last line printed is one JSON object; ``rows_per_s`` is the SQLite import.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from mailbot.importer.run import ImportOptions, plan_file, run_import  # noqa: E402
from store.db import Database  # noqa: E402
from store.models import Entry  # noqa: E402

PG_URL = os.environ.get("MAILBOT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.UTC)
HEADERS = ["NOM", "Prénom", "Né(e) le", "Tél portable", "CP", "Commune", "ALD", "CMU-C / CSS",
           "Date de la demande", "Statut", "Structure", "Accord du patient"]
NAMES = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND",
         "LEROY", "MOREAU", "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID"]
FIRST = ["Marie", "Jean", "Pierre", "Louise", "Paul", "Jeanne", "Lucas", "Emma", "Hugo", "Léa"]
STATUSES = ["en attente"] * 6 + ["attribué", "a trouvé seul", "décédé", "déménagé", ""]
STRUCTURES = ["DAC 16", "CH Angoulême", "Pharmacie du Centre", "Cabinet infirmier", "CPAM"]


def _letters(number: int) -> str:
    """``0`` → ``A``, ``27`` → ``BB``…: a distinct name part (identity keys keep letters only)."""
    out = ""
    while True:
        number, rest = divmod(number, 26)
        out += chr(65 + rest)
        if not number:
            return out


def make_workbook(path: Path, rows: int, seed: int = 11) -> None:
    """A ``rows``-patient workbook (write-only mode: written in a few seconds)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    rnd = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Liste d'attente")
    ws.append([f"Liste d'attente — {rows} patients"])
    ws.append(HEADERS)
    for i in range(rows):
        born = dt.date(1925, 1, 1) + dt.timedelta(days=rnd.randrange(0, 36000))
        asked = dt.datetime(2019, 1, 1) + dt.timedelta(days=rnd.randrange(0, 2300))
        date_cell = WriteOnlyCell(ws, value=asked)
        date_cell.number_format = "DD/MM/YYYY"
        ws.append([
            f"{rnd.choice(NAMES)}-{_letters(i)}", rnd.choice(FIRST), born.strftime("%d/%m/%Y"),
            f"06{i:08d}", f"16{rnd.randrange(0, 999):03d}", f"Commune {rnd.randrange(60)}",
            "X" if rnd.random() < 0.3 else None, "oui" if rnd.random() < 0.1 else "non",
            date_cell, rnd.choice(STATUSES), rnd.choice(STRUCTURES), "oui",
        ])
    ws.append(["Total", None, None, None, None, None, f"=COUNTA(G3:G{rows + 2})"])
    wb.save(path)


def read_baseline(path: Path) -> float:
    """Seconds to read every row with openpyxl alone."""
    from openpyxl import load_workbook

    started = time.perf_counter()
    wb = load_workbook(path, read_only=True, data_only=True)
    count = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    assert count > 0
    return time.perf_counter() - started


def import_into(db: Database, path: Path, rows: int) -> float:
    """Seconds for the real import into ``db`` (already migrated, empty)."""
    started = time.perf_counter()
    report = run_import(db, path, ImportOptions(batch_rows=1000), now=NOW, tz=PARIS)
    seconds = time.perf_counter() - started
    counts = report.counts()
    assert counts["created"] + counts["incomplete"] + counts["duplicate"] == rows, counts
    with db.sessions() as session:
        assert session.execute(select(func.count()).select_from(Entry)).scalar_one() > 0
    return seconds


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="also import into PostgreSQL")
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        book = Path(folder) / "liste.xlsx"
        started = time.perf_counter()
        make_workbook(book, args.rows)
        print(f"workbook: {args.rows:,} rows, {book.stat().st_size / 1e6:.1f} MB, written in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        baseline = read_baseline(book)
        print(f"baseline (openpyxl reads every row): {baseline:.2f} s = "
              f"{args.rows / baseline:,.0f} rows/s", flush=True)
        started = time.perf_counter()
        _infos, plans = plan_file(book, ImportOptions(), now=NOW, tz=PARIS)
        planning = time.perf_counter() - started
        assert len([p for p in plans if p.outcome == "entry"]) == args.rows
        print(f"reading and checking the rows: {planning:.2f} s = {args.rows / planning:,.0f} "
              f"rows/s ({planning / baseline:.1f}× baseline)", flush=True)
        sqlite_db = Database(f"sqlite:///{folder}/bench.db")
        sqlite_db.migrate()
        sqlite_s = import_into(sqlite_db, book, args.rows)
        sqlite_db.dispose()
        print(f"import into SQLite: {sqlite_s:.1f} s = {args.rows / sqlite_s:,.0f} rows/s "
              f"({sqlite_s / baseline:.1f}× baseline)", flush=True)
        pg_rate = None
        if args.postgres:
            schema = f"mailbot_bench_import_{os.getpid()}_{secrets.token_hex(3)}"
            pg_db = Database(args.pg_url, schema=schema)
            try:
                pg_db.migrate()
                pg_s = import_into(pg_db, book, args.rows)
                pg_rate = args.rows / pg_s
                print(f"import into PostgreSQL: {pg_s:.1f} s = {pg_rate:,.0f} rows/s "
                      f"({pg_s / baseline:.1f}× baseline)", flush=True)
            finally:
                pg_db.dispose()
                admin = Database(args.pg_url)
                with admin.engine.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                admin.dispose()
    print(json.dumps({
        "rows_per_s": round(args.rows / sqlite_s), "rows": args.rows,
        "baseline_read_rows_per_s": round(args.rows / baseline),
        "planning_rows_per_s": round(args.rows / planning),
        "postgres_rows_per_s": None if pg_rate is None else round(pg_rate),
        "ratio_to_baseline": round(sqlite_s / baseline, 1),
        "load_avg": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    main()
