"""What store code keeps for the length of one transaction, forgotten when it ends.

Per-transaction caches and buffers live in ``session.info`` under one key; a single
listener drops them all when the outermost transaction ends (commit or rollback),
so a session used for several transactions never sees the previous one's values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

T = TypeVar("T")

_KEY = "transaction_state"  # session.info: {name: value} for the current transaction


def get(session: Session, name: str) -> Any | None:
    """The value kept under ``name`` in this transaction, or ``None``."""
    state: dict[str, Any] | None = session.info.get(_KEY)
    return None if state is None else state.get(name)


def setdefault(session: Session, name: str, factory: Callable[[], T]) -> T:
    """The value kept under ``name``, made by ``factory`` the first time in this transaction."""
    state: dict[str, Any] = session.info.setdefault(_KEY, {})
    if name not in state:
        state[name] = factory()
    return cast(T, state[name])


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_KEY, None)
