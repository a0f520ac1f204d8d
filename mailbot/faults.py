"""Crash points for the "nothing lost" tests.

``MAILBOT_CRASH_AT=after_store`` (or ``after_commit``, ``before_send``) makes
the process die at once — no cleanup, no flush, as a ``kill -9`` would — the
first time it reaches that point. Production never sets the variable.
"""

from __future__ import annotations

import os

ENV = "MAILBOT_CRASH_AT"
POINTS = frozenset({"after_store", "after_commit", "before_send", "after_send"})


def checkpoint(name: str) -> None:
    """Die here if the environment asks for it (tests only)."""
    if os.environ.get(ENV) == name:
        os._exit(137)
