"""Apply Alembic migrations from inside the running program.

Alembic is synchronous; we hand it a connection borrowed from our async engine
(Alembic's "programmatic API with an existing connection" recipe), so migrations
run on the same engine, pragmas and all, whether from ``organise-bot db upgrade``
or at start-up.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection

from storage.db import OPEN_ERRORS, Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(database: Database, revision: str = "heads") -> None:
    """Each capability's migrations branch from the foundation's, so "heads"."""

    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def prepare(database: Database, *, migrate: bool = True) -> None:
    """Make the database ready to serve, or fail with one line
    (:class:`~bot.faults.StartupError`) saying why and what to do: its folder
    exists, it opens, it is migrated, and it can be written."""
    database.check_folder()
    try:
        if migrate:
            await upgrade(database)
        await database.check_writable()
    except OPEN_ERRORS as error:
        raise database.explain(error) from None
