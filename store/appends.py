"""Append-only rows (audit trail, entry history, tokens) written by batches.

A session may *buffer* such rows: they are kept in memory and written with one
``executemany`` per table instead of one ``INSERT`` each — a batch of a hundred
mails then costs three statements instead of some four hundred. Buffering is
opt-in (:func:`enable`; the inbound pipeline turns it on for its batches) and
never changes what a reader sees in the same transaction:

* the rows are written before the transaction commits, and before any
  statement the session runs through ``Session.execute``/``scalars``/``get``;
* a store function that reads one of these tables through the bare connection
  calls :func:`flush` first;
* inside a savepoint nothing is buffered, and what was buffered before it is
  written before the savepoint starts, so rolling it back loses only its own rows;
* a rolled back transaction drops its buffer with everything else
  (:mod:`store.transaction_state`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from store import transaction_state

_NAME = "buffered_appends"  # {insert statement: [row values, …]} while enabled


def enable(session: Session) -> None:
    """Buffer the append-only rows of this session's current transaction."""
    transaction_state.setdefault(session, _NAME, dict)


def add(session: Session, statement: Insert, values: dict[str, Any]) -> None:
    """Insert one row now, or later with its table's batch when the session buffers.

    ``values`` is kept as given until then: the caller must not change it afterwards
    (an audit row's hash was computed from it).
    """
    add_many(session, statement, [values])


def add_many(session: Session, statement: Insert, rows: list[dict[str, Any]]) -> None:
    """:func:`add` for several rows of one table: one ``executemany`` when not buffered."""
    if not rows:
        return
    pending: dict[Insert, list[dict[str, Any]]] | None = transaction_state.get(session, _NAME)
    if pending is None or session.in_nested_transaction():
        session.connection().execute(statement, rows if len(rows) > 1 else rows[0])
        return
    pending.setdefault(statement, []).extend(rows)


def flush(session: Session, transaction: SessionTransaction | None = None) -> None:
    """Write every buffered row now (one ``executemany`` per table)."""
    pending: dict[Insert, list[dict[str, Any]]] | None = transaction_state.get(session, _NAME)
    if not pending:
        return
    connection = transaction.connection(None) if transaction else session.connection()
    batches = list(pending.items())
    pending.clear()
    for statement, rows in batches:
        connection.execute(statement, rows)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    flush(session)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    flush(state.session)


@event.listens_for(Session, "after_transaction_create")
def _before_savepoint(session: Session, transaction: SessionTransaction) -> None:
    """Write what the enclosing transaction buffered, before the SAVEPOINT is emitted."""
    if transaction.nested and transaction_state.get(session, _NAME) \
            and transaction.parent is not None:
        flush(session, transaction.parent)
