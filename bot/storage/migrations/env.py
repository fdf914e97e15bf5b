"""Alembic environment: always driven from `bot.storage.migrate` with a live connection."""

from __future__ import annotations

from alembic import context

from bot.storage.search import compared
from bot.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded: offline mode is not supported
    raise RuntimeError("run migrations with `python -m bot migrate`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    include_object=compared(connection.dialect.name),
)
with context.begin_transaction():
    context.run_migrations()
