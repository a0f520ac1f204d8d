"""Hostile-input benchmark (issue 13): each hostile mail through ``mailbot run --once``.

One bot (SQLite, Maildir) takes, in the same run, a normal referral (three
times: before, between and after the hostile cases) and each case of
:mod:`benchmarks.hostile_mails`, one real ``mailbot run --once`` process per
mail. For each it reports the wall time and the peak RSS of that process
(``os.wait4``), the terminal state reached, and the ratio of its time to the
normal referral's (median of the three). Target: no case over 10× the normal
time, none over 300 MB. The bot has the default configuration (``[inbound]
max_size_mb = 25``: the 50 MB mail is set aside, header only); a second bot
with ``max_size_mb = 100`` reads the same mail whole, reported apart
(``raised_limit``). The last line is one JSON object with ``worst_ratio`` and
``peak_rss_mb`` (default configuration).

    python benchmarks/hostile.py [--only CASE]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import hostile_mails  # noqa: E402
from mailbot.config.minimal import merged, minimal_sections, render_toml  # noqa: E402

CONFIG = render_toml(merged(minimal_sections(), {"logging": {"level": "WARNING"}}))
RAISED = render_toml(merged(minimal_sections(), {
    "inbound": {"max_size_mb": 100}, "logging": {"level": "WARNING"}}))
MAX_RATIO, MAX_RSS_MB = 10.0, 300.0


# ``mailbot --config PATH run --once`` in a fresh interpreter that, on its way out, prints
# its own high-water RSS (VmHWM: the process's memory since exec; ru_maxrss would
# also count the benchmark's pages the child shared between fork and exec).
_CHILD = """
import sys
from mailbot.cli import main
code = main(["--config", sys.argv[1], "run", "--once"])
with open("/proc/self/status", encoding="ascii") as status:
    print(next(line for line in status if line.startswith("VmHWM")), file=sys.stderr)
sys.exit(code)
"""


class Bot:
    """A bot folder and its ``mailbot`` command line."""

    def __init__(self, root: Path, config: str = CONFIG) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "mailbot.toml").write_text(config, encoding="utf-8")
        self.env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.base = [sys.executable, "-m", "mailbot", "--config", str(root / "mailbot.toml")]
        subprocess.run([*self.base, "init"], check=True, env=self.env, capture_output=True)
        self.count = 0

    def run_one(self, raw: bytes) -> tuple[float, float, str]:
        """Drop ``raw``, run ``run --once``; return (seconds, peak RSS MB, state of the mail)."""
        self.count += 1
        (self.root / "var" / "inbox" / "new" / f"{self.count:05d}.bench").write_bytes(raw)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(self.root / "mailbot.toml")],
                              env=self.env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"run --once failed ({proc.returncode}): {proc.stderr[-2000:]}")
        peak_kb = int(proc.stderr.rsplit("VmHWM:", 1)[1].split()[0])
        return seconds, peak_kb / 1024, self.last_state()

    def last_state(self) -> str:
        """``state (kind)`` of the newest inbound mail."""
        db = sqlite3.connect(self.root / "var" / "mailbot.db")
        try:
            row = db.execute("SELECT state, kind FROM inbound_message ORDER BY id DESC LIMIT 1").fetchone()
        finally:
            db.close()
        return f"{row[0]} ({row[1]})" if row else "absent"


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(hostile_mails.CASES), action="append")
    args = parser.parse_args()
    cases = args.only or list(hostile_mails.CASES)
    with tempfile.TemporaryDirectory() as tmp:
        bot = Bot(Path(tmp) / "default")
        bot.run_one(hostile_mails.normal(99))  # warm-up: caches, first migration check
        normal = [bot.run_one(hostile_mails.normal(0))]
        results: dict[str, tuple[float, float, str]] = {}
        for i, name in enumerate(cases):
            raw = hostile_mails.CASES[name]()
            results[name] = (*bot.run_one(raw)[:2], bot.last_state())
            print(f"  {name}: {len(raw) / 1e6:.2f} Mo, {results[name][0]:.2f} s", file=sys.stderr)
            if i == len(cases) // 2:
                normal.append(bot.run_one(hostile_mails.normal(1)))
        normal.append(bot.run_one(hostile_mails.normal(2)))
        raised = Bot(Path(tmp) / "raised", RAISED)
        raised.run_one(hostile_mails.normal(98))  # warm-up
        big = raised.run_one(hostile_mails.big_attachment()) if not args.only or \
            "piece_jointe_50_mo" in args.only else None
    base_s = statistics.median(s for s, _m, _st in normal)
    base_mb = max(m for _s, m, _st in normal)
    print(f"{'cas':<26}{'temps (s)':>10}{'ratio':>8}{'RSS max (Mo)':>14}  état final")
    print(f"{'fiche normale (médiane)':<26}{base_s:>10.2f}{1.0:>8.2f}{base_mb:>14.0f}  {normal[0][2]}")
    worst_ratio, peak = 0.0, base_mb
    over = []
    for name, (seconds, mb, state) in results.items():
        ratio = seconds / base_s
        worst_ratio, peak = max(worst_ratio, ratio), max(peak, mb)
        flag = "  ← au-delà de la cible" if ratio > MAX_RATIO or mb > MAX_RSS_MB else ""
        if flag:
            over.append(name)
        print(f"{name:<26}{seconds:>10.2f}{ratio:>8.2f}{mb:>14.0f}  {state}{flag}")
    if big is not None:
        print(f"{'50 Mo, limite à 100 Mo':<26}{big[0]:>10.2f}{big[0] / base_s:>8.2f}{big[1]:>14.0f}"
              f"  {big[2]} (lu en entier ; hors cible si > {MAX_RSS_MB:g} Mo)")
    print(f"cible : ≤ {MAX_RATIO:g}× la fiche normale et ≤ {MAX_RSS_MB:g} Mo ; "
          f"{'atteinte' if not over else 'manquée pour ' + ', '.join(over)} ; "
          f"charge moyenne : {os.getloadavg()[0]:.2f}")
    print(json.dumps({"worst_ratio": round(worst_ratio, 2), "peak_rss_mb": round(peak, 1),
                      "normal_s": round(base_s, 3),
                      "cases": {n: {"s": round(s, 3), "ratio": round(s / base_s, 2),
                                    "rss_mb": round(m, 1), "state": st}
                                for n, (s, m, st) in results.items()},
                      "target_met": not over,
                      "raised_limit": None if big is None else {
                          "s": round(big[0], 3), "ratio": round(big[0] / base_s, 2),
                          "rss_mb": round(big[1], 1), "state": big[2]}}))


if __name__ == "__main__":
    main()
