"""Work left to the end of a batch, in the batch's transaction (like :mod:`store.appends`).

Jobs are plain callables: this module knows nothing of what they do. The inbound
pipeline processes a batch of mails in one transaction
(:mod:`mailbot.inbound.pipeline`) and turns deferral on for it; a workflow may
then hand over a job that gains from being done once for several mails (a GP's
slot refilled after a NON reads the waiting list once for the whole batch). The
jobs run, in the order given, after the batch's last mail and before its
terminal states are written, so they commit or roll back with the batch. Inside
a savepoint (a batch run again mail by mail after a failure) nothing is
deferred: the caller does the work at once.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from store import transaction_state

_NAME = "deferred_jobs"  # [job, …] while enabled


def enable(session: Session) -> None:
    """Let workflows defer jobs to the end of this session's current transaction's batch."""
    transaction_state.setdefault(session, _NAME, list)


def later(session: Session, job: Callable[[], None]) -> bool:
    """Run ``job`` at the end of the batch; ``False`` (not queued) when deferral is off."""
    jobs: list[Callable[[], None]] | None = transaction_state.get(session, _NAME)
    if jobs is None or session.in_nested_transaction():
        return False
    jobs.append(job)
    return True


def run(session: Session) -> None:
    """Run the jobs deferred so far, in order (a job may defer more)."""
    jobs: list[Callable[[], None]] | None = transaction_state.get(session, _NAME)
    while jobs:
        jobs.pop(0)()
