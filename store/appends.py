"""Append-only rows (audit trail, entry history, tokens) written by batches.

A session may *buffer* such rows: they are kept in memory and written with one
``executemany`` per table instead of one ``INSERT`` each — a batch of a hundred
mails then costs three statements instead of some four hundred. Buffering is
opt-in (:func:`enable`; the inbound pipeline turns it on for its batches) and
never changes what a reader sees in the same transaction:

* the rows are written before the transaction commits, and before any
  statement the session runs through ``Session.execute``/``scalars``/``get``
  that names their table (in its FROM, a join, a subquery or as the table it
  writes): rows of other tables wait, so a reply's lookups do not cut the
  batch's audit trail into one statement per mail;
* a store function that reads one of these tables through the bare connection
  calls :func:`flush` first;
* inside a savepoint nothing is buffered, and what was buffered before it is
  written before the savepoint starts, so rolling it back loses only its own rows;
* a rolled back transaction drops its buffer with everything else
  (:mod:`store.transaction_state`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ClauseElement, Delete, Executable, Insert, TextClause, event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.util import find_tables

from store import transaction_state

_NAME = "buffered_appends"  # {insert statement: [row values, …]} while enabled
_TABLES_OF: dict[Any, frozenset[str]] = {}  # statement's cache key → the tables it names
_TABLES_KEPT = 4096  # distinct statement shapes remembered (a handful in practice)


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


def flush(session: Session, transaction: SessionTransaction | None = None,
          tables: frozenset[str] | None = None) -> None:
    """Write the buffered rows now (one ``executemany`` per table): all of them, or only
    those of ``tables``."""
    pending: dict[Insert, list[dict[str, Any]]] | None = transaction_state.get(session, _NAME)
    if not pending:
        return
    connection = transaction.connection(None) if transaction else session.connection()
    batches = [(statement, rows) for statement, rows in pending.items()
               if tables is None or statement.table.name in tables]
    for statement, rows in batches:
        del pending[statement]
        connection.execute(statement, rows)


def tables_of(statement: Executable) -> frozenset[str] | None:
    """The names of the tables ``statement`` reads or writes, subqueries included;
    ``None`` when that cannot be told (SQL text) or does not matter (a ``DELETE``, which
    rows already buffered may refer to): then every buffered row must go first."""
    if isinstance(statement, TextClause | Delete) or not isinstance(statement, ClauseElement):
        return None
    key = statement._generate_cache_key()  # memoized: the execution needs it anyway
    if key is not None and key.key in _TABLES_OF:
        return _TABLES_OF[key.key]
    names = frozenset(table.name for table in find_tables(
        statement, include_aliases=True, include_joins=True, include_crud=True)
        if hasattr(table, "name"))
    if key is not None:
        if len(_TABLES_OF) >= _TABLES_KEPT:
            _TABLES_OF.clear()
        _TABLES_OF[key.key] = names
    return names


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    flush(session)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    """Write what the statement may read or change: the buffered rows of its tables."""
    if transaction_state.get(state.session, _NAME):
        flush(state.session, tables=tables_of(state.statement))


@event.listens_for(Session, "after_transaction_create")
def _before_savepoint(session: Session, transaction: SessionTransaction) -> None:
    """Write what the enclosing transaction buffered, before the SAVEPOINT is emitted."""
    if transaction.nested and transaction_state.get(session, _NAME) \
            and transaction.parent is not None:
        flush(session, transaction.parent)
