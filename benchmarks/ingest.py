"""Ingest benchmark (issue 3): N referral mails through ``mailbot run --once`` on SQLite.

Generates N varied referral mails into a Maildir, times the real command
``mailbot run --once`` end to end (store, classify, parse, register, enqueue and
write every acknowledgement), and in the same run a baseline that only reads
the same files and parses them with ``email.message_from_bytes``. Prints
mails/s, the peak RSS of the bot's process and the ratio to the baseline; the
last line is one JSON object.

    python benchmarks/ingest.py [--count 5000] [--seed 1]
"""

from __future__ import annotations

import argparse
import email
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.mailgen import referral_mail  # noqa: E402
from mailbot.config.minimal import merged, minimal_sections, render_toml  # noqa: E402

# The benchmark measures throughput: 5 000 referrals from three partners in one pass
# would otherwise hit the per-partner hourly loop guard.
CONFIG = render_toml(merged(minimal_sections(), {
    "limits": {"replies_per_partner_per_hour": 1000000}, "logging": {"level": "WARNING"}}))


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "mailbot.toml").write_text(CONFIG)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        base = [sys.executable, "-m", "mailbot", "--config", str(root / "mailbot.toml")]
        subprocess.run([*base, "init"], check=True, env=env, capture_output=True)
        init_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        init_cpu_s = init_usage.ru_utime + init_usage.ru_stime
        new = root / "var" / "inbox" / "new"
        for i in range(args.count):
            (new / f"{i:07d}.bench").write_bytes(referral_mail(rng, i))
        total_bytes = sum(p.stat().st_size for p in new.iterdir())

        # Baseline: read and parse the same files.
        start = time.perf_counter()
        for path in sorted(new.iterdir()):
            email.message_from_bytes(path.read_bytes())
        baseline_s = time.perf_counter() - start

        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        proc = subprocess.run([*base, "run", "--once"], env=env, capture_output=True, text=True)
        bot_s = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"run --once failed: {proc.stderr[-2000:]}")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_kb = usage.ru_maxrss
        cpu_s = usage.ru_utime + usage.ru_stime - init_cpu_s  # the bot's CPU, init excluded
        sent = len(list((root / "var" / "outbox" / "new").iterdir()))
        left = len(list(new.iterdir()))

    mails_per_s = args.count / bot_s
    baseline_per_s = args.count / baseline_s
    peak_rss_mb = peak_kb / 1024
    print(f"mails: {args.count} ({total_bytes / 1e6:.1f} MB), acknowledgements written: {sent}, "
          f"left unprocessed: {left}")
    print(f"bot run --once: {bot_s:.2f} s → {mails_per_s:.0f} mails/s (process start included)")
    print(f"baseline read + email.message_from_bytes: {baseline_s:.2f} s → {baseline_per_s:.0f} mails/s")
    print(f"ratio bot / baseline: {mails_per_s / baseline_per_s:.3f}")
    print(f"peak RSS of the bot process: {peak_rss_mb:.0f} MB; its CPU time: {cpu_s:.2f} s "
          f"({1000 * cpu_s / args.count:.2f} ms per mail, start included); "
          f"load average before: {load_before:.2f}")
    print(json.dumps({"mails_per_s": round(mails_per_s, 1), "baseline_per_s": round(baseline_per_s, 1),
                      "ratio": round(mails_per_s / baseline_per_s, 4), "peak_rss_mb": round(peak_rss_mb, 1),
                      "count": args.count, "acks": sent,
                      "cpu_ms_per_mail": round(1000 * cpu_s / args.count, 3),
                      "load_avg": round(load_before, 2)}))


if __name__ == "__main__":
    main()
