"""Scheduled jobs: proposals, recontact, follow-up, digest, retention…
May import workflows, matching, outbound, the kernel and store; inbound, daemon and cli import it.

Each job lives in its own module of this package and registers itself with
:func:`register`. ``JOB_MODULES`` lists the modules to load; a workflow that
adds a job adds its module name here.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass

from mailbot.app import App

JobFunction = Callable[[App, dt.datetime], str]

# Modules that define jobs (each calls ``register`` at import).
JOB_MODULES: list[str] = [
    "mailbot.jobs.outbox_retry",
    "mailbot.jobs.retention",
    "mailbot.jobs.digest",
    "mailbot.jobs.urgent",
    "mailbot.jobs.recontact",
    "mailbot.jobs.proposals",
    "mailbot.jobs.followup",
]


@dataclass(frozen=True)
class Job:
    """A named job: what it does, when by default, and the function that does it.

    ``run(app, now)`` does the work in its own transactions and returns a
    one-line French summary (counts, never patient data).
    """

    name: str
    description: str
    default_schedule: str  # five-field cron, or "off"
    run: JobFunction


REGISTRY: dict[str, Job] = {}


def register(job: Job) -> Job:
    """Add a job to the registry (module import time)."""
    REGISTRY[job.name] = job
    return job


def load_all() -> dict[str, Job]:
    """Import every job module and return the registry."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    return REGISTRY
