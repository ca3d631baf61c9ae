"""Alembic environment: always run on a connection handed in by storage.migrate."""

import importlib
import pkgutil

from alembic import context

import storage
from storage.models import Base

# Every table is declared in a module of storage/: importing them all fills
# Base.metadata, without reaching up into the features (bot.commands) for it.
for module in pkgutil.iter_modules(storage.__path__, "storage."):
    if not module.ispkg:
        importlib.import_module(module.name)

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
