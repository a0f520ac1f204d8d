"""Load and fault test (issue 14): N real daemons on PostgreSQL, one Dovecot mailbox.

Real servers: Dovecot (IMAP for the bot, LMTP for the mail delivered to it, as from an
MTA), PostgreSQL (a fresh schema), an aiosmtpd sink for the bot's outgoing mail. Before
the daemons start, GPs get proposals and waiting patients a recontact question (through
the real jobs), so that GPs' and patients' replies and bounces answer real mails.

Phases, on the same mailbox and database:

1. throughput with 1, 2, then 3 daemons: a burst of mails delivered as fast as Dovecot
   takes them; mails/s from the first delivery to the last terminal state;
2. latency with 3 daemons at 50 mails/s offered: from the LMTP acknowledgement to the
   reply's arrival at the sink (``In-Reply-To``), p50 and p99;
3. faults with 3 daemons, mail still offered: one daemon SIGKILLed then restarted, the
   bot's PostgreSQL connections cut (``pg_terminate_backend``), the sink refusing (451)
   for a while; then everything drains;
4. every daemon stopped, mails stored but not final counted, one daemon started again
   (it takes them up when it connects), then the checks (``benchmarks/load_check.py``).

Figures are indicative on a shared machine. The last line is one JSON object.

    python benchmarks/load.py [--mails 20000] [--small]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.load_check import check  # noqa: E402
from benchmarks.load_daemons import Daemons, PgWatch, Sampler  # noqa: E402
from benchmarks.load_phases import Run, Sizes  # noqa: E402
from benchmarks.load_seed import PG_URL, LoadSchema, cleanup_all, seed, write_config  # noqa: E402
from benchmarks.load_servers import Injector, SinkHandler  # noqa: E402
from store.db import Database  # noqa: E402
from tests.servers.dovecot import DovecotServer  # noqa: E402
from tests.servers.pki import make_pki  # noqa: E402
from tests.servers.smtp import SmtpServer  # noqa: E402


def run(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """The whole run; returns the report."""
    sizes = Sizes.of(args.mails, small=args.small, rate=args.rate,
                     refuse_seconds=args.refuse_seconds)
    steps: list[Any] = []
    try:
        pki = make_pki(root / "pki")
        dovecot = DovecotServer(pki, lmtp=True)
        steps.append(dovecot.cleanup)
        dovecot.start()
        sink = SinkHandler()
        smtp = SmtpServer(pki, handler=sink)
        smtp.start()
        steps.append(smtp.stop)
        schema = LoadSchema()
        schema.create()
        steps.append(lambda: schema.drop(keep=args.keep))
        configs = [write_config(root, i, pki, dovecot, smtp.tls_port, schema) for i in range(3)]
        asked = seed(configs[0], patients=sizes.patients, proposals=sizes.proposals)
        db = Database(PG_URL, schema=schema.schema)
        steps.append(db.dispose)
        daemons = Daemons(configs, root)
        steps.append(daemons.stop_all)
        pg = PgWatch(PG_URL, schema.application_name, lambda: daemons.pids)
        steps.append(pg.close)
        injector = Injector(dovecot)
        steps.append(injector.close)
        with Sampler(daemons, pg):
            report = Run(sizes, db, daemons, pg, injector, sink, asked).all_phases()
        daemons.stop_all()
        report["crashed"] = daemons.crashed()
        report["exit_codes"] = daemons.exit_codes
        report["checks"] = check(db, set(injector.delivered), sink.snapshot(), configs[0])
        report["seeded"] = {"questions": sum(a.kind == "recontact" for a in asked),
                            "proposals": sum(a.kind == "proposal" for a in asked)}
        report["injector_failures"] = injector.failures
        report["sink_refused"] = sink.refused
        report["peak_rss_by_daemon"] = {k: round(v, 1) for k, v in daemons.peak_rss.items()}
        return report
    finally:
        cleanup_all(steps)


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The last line's keys."""
    checks = report["checks"]
    per_s = report["per_s"]
    rss = report["peak_rss_by_daemon"]
    return {
        "lost": checks["lost"], "duplicated": checks["duplicated"],
        "stuck_before_restart": report["faults"]["stuck_before_restart"],
        "stuck": checks["stuck"],
        "duplicated_by_kind": checks["duplicated_by_kind"], "uncertain": checks["uncertain"],
        "audit_ok": checks["audit_ok"],
        "p50_s": report["latency"]["p50_s"], "p99_s": report["latency"]["p99_s"],
        "offered_per_s": report["latency"]["offered_per_s"],
        "per_s_1": per_s.get("1"), "per_s_2": per_s.get("2"), "per_s_3": per_s.get("3"),
        "scale_3_over_1": (round(per_s["3"] / per_s["1"], 2)
                           if per_s.get("1") and per_s.get("3") else None),
        "peak_rss_mb": round(max(rss.values()), 1) if rss else None,
        "pg_cpu_share": report["pg_cpu_share"], "mails": sum(report["kinds"].values()),
        "load_avg": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    """Run, print the report, and the JSON summary as the last line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=20_000)
    parser.add_argument("--small", action="store_true", help="reduced size (the slow test)")
    parser.add_argument("--rate", type=float, default=50.0, help="mails/s offered (latency)")
    parser.add_argument("--refuse-seconds", type=float, default=None,
                        help="how long the sink refuses (default 30, 5 with --small)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()
    if args.small and args.mails == 20_000:
        args.mails = 400
    root = Path(tempfile.mkdtemp(prefix="mailbot-load-"))
    try:
        report = run(args, root)
    finally:
        if args.keep:
            print(f"work folder kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps({k: v for k, v in report.items() if k != "checks"}, ensure_ascii=False))
    print(json.dumps(report["checks"], ensure_ascii=False))
    print(json.dumps(summary(report), ensure_ascii=False))


if __name__ == "__main__":
    threading.excepthook = lambda hook: print(f"thread failed: {hook.exc_value!r}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # still stop the daemons and servers
    main()
