"""Alembic environment: runs on the connection given by :class:`store.db.Database`."""

from __future__ import annotations

from alembic import context

from store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through store.db.Database.migrate
    raise SystemExit("use `mailbot init` to create or upgrade the database")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
