"""``recontact``: the monthly "still looking for a doctor?" round (see workflows/recontact_round.py).

Runs hourly on weekdays by default; it sends nothing outside the
``[recontact]`` sending window and at most ``max_mails_per_run`` mails a run,
so a large list is spread over several hours.
"""

from __future__ import annotations

import datetime as dt

from mailbot.app import App
from mailbot.jobs import Job, register
from mailbot.workflows.recontact_round import run_round


def run(app: App, now: dt.datetime) -> str:
    """Close, remind, ask; return the counts as one French line."""
    return run_round(app, now).summary()


JOB = register(Job("recontact",
                   "recontact mensuel des patients (OUI/NON), relances, liste d'appels",
                   "0 9-17 * * 1-5", run))
