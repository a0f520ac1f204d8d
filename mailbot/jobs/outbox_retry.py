"""``outbox``: deliver mails whose next attempt is due (the daemon also does it after each pass)."""

from __future__ import annotations

import asyncio
import datetime as dt

from mailbot.app import App
from mailbot.jobs import Job, register
from mailbot.outbound.delivery import OutboxWorker


def run(app: App, now: dt.datetime) -> str:
    """Try every due mail once."""
    counts = asyncio.run(OutboxWorker(app).deliver_due())
    if not counts:
        return "aucun message à envoyer"
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))


JOB = register(Job("outbox", "envoie les messages en attente (nouvelles tentatives comprises)",
                   "*/5 * * * *", run))
