"""Alembic environment: always run on a connection handed in by storage.migrate."""

from alembic import context

import bot.commands  # noqa: F401 - imports every capability, and so all its models
from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `organise-bot db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
