"""``mailbot run`` and ``mailbot run --once``."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from mailbot.app import App
from mailbot.cli.common import app_of
from mailbot.daemon.heartbeat import Heartbeat
from mailbot.daemon.leader import InboundLeader
from mailbot.daemon.single import only_process
from mailbot.inbound.pipeline import Pipeline
from mailbot.operations.labels import DELIVERY_WORDS, INBOUND_STATES, counts_text
from mailbot.transports.factory import inbound_transport


def register(sub: Any) -> None:
    """Add the ``run`` sub-command."""
    p = sub.add_parser("run", help="le démon : réception, envoi, tâches planifiées")
    p.add_argument("--once", action="store_true",
                   help="traiter tout ce qui est en attente puis s'arrêter")
    p.add_argument("--log-format", choices=["text", "json"], default=None,
                   help="format du journal : text (défaut) ou json (pour les collecteurs)")
    p.set_defaults(handler=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    """Process pending work once, or run the daemon until SIGTERM/SIGINT."""
    app = app_of(args, log_format=args.log_format, daemon=not args.once)
    with only_process(app.db), Heartbeat(app, role="once" if args.once else "daemon",
                                         resume_jobs=not args.once):
        return _run(args, app)


def _run(args: argparse.Namespace, app: App) -> int:
    """The run itself, under the SQLite single-process guard."""
    if args.once:
        state_dir = app.config.source.parent if app.config.source else None
        pipeline = Pipeline(app, inbound_transport(app.config.inbound, state_dir))
        leader = InboundLeader()
        try:
            reads = leader.acquire(app)  # PostgreSQL: not while a daemon reads the mailbox
            if not reads:
                print("La boîte de réception est relevée par un autre processus « mailbot "
                      "run » : seuls les messages déjà enregistrés sont traités.")
            report = asyncio.run(pipeline.run_once(fetch=reads))
        finally:
            leader.release()
        states = counts_text(report.states, INBOUND_STATES)
        sent = counts_text(report.delivery, DELIVERY_WORDS)
        print(f"Messages reçus : {report.fetched} ; issue : {states} ; envois : {sent}.")
        return 0
    from mailbot.daemon.loop import Daemon

    return asyncio.run(Daemon(args, app).run())
