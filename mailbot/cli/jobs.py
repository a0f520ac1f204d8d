"""``mailbot jobs list`` and ``mailbot jobs run NAME [--at DATETIME]``."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from typing import Any

from rich.console import Console
from rich.table import Table

from mailbot.cli.common import app_of
from mailbot.clock import PARIS
from mailbot.daemon.heartbeat import Heartbeat
from mailbot.errors import UsageError
from mailbot.jobs import load_all
from mailbot.jobs.schedule import next_run, run_job, schedule_of
from mailbot.outbound.delivery import OutboxWorker
from store.models import JobRun


def register(sub: Any) -> None:
    """Add ``jobs`` and its actions."""
    p = sub.add_parser("jobs", help="tâches planifiées : liste, exécution immédiate")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = actions.add_parser("list", help="tâches, dernier et prochain passage")
    a.set_defaults(handler=cmd_list)
    a = actions.add_parser("run", help="lancer une tâche maintenant (même si son passage "
                                      "planifié a déjà eu lieu)")
    a.add_argument("name", help="nom de la tâche (voir « mailbot jobs list »)")
    a.add_argument("--at", metavar="DATETIME",
                   help="agir comme si l'horloge indiquait cette date (ISO, heure de Paris par défaut), "
                        "ex. 2026-12-01T09:00")
    a.set_defaults(handler=cmd_run)


def parse_at(value: str) -> dt.datetime:
    """An ISO date or date-time; naive values are Paris time."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--at : date illisible « {value} » (attendu : 2026-12-01T09:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def cmd_list(args: argparse.Namespace) -> int:
    """A table of the jobs with their schedule and last/next runs."""
    app = app_of(args)
    now = app.clock.now()
    table = Table("Tâche", "Quand", "Dernier passage", "Résultat", "Prochain passage", "Rôle")
    with app.db.sessions() as session:
        for job in sorted(load_all().values(), key=lambda j: j.name):
            run = session.get(JobRun, job.name)
            nxt = next_run(app, job, now)
            last = run.last_run_at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if run and run.last_run_at else "jamais"
            table.add_row(job.name, schedule_of(app, job), last,
                          (run.last_summary or "") if run else "",
                          nxt.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if nxt else "désactivée",
                          job.description)
    Console(width=160).print(table)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run one job, then deliver what it put in the outbox."""
    app = app_of(args)
    at = parse_at(args.at) if args.at else None
    with Heartbeat(app, role="jobs", resume_jobs=False):  # its sends are attributed
        summary = run_job(app, args.name, at=at)  # asked for: runs even if the hour's is done
        print(f"{args.name} : {summary}")
        if args.name != "outbox":
            counts = asyncio.run(OutboxWorker(app).deliver_due())
            if counts:
                print("envois : " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    return 0
