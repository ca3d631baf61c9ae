"""Apply Alembic migrations from inside the running program.

Alembic is synchronous; we hand it a connection borrowed from our async engine
(Alembic's "programmatic API with an existing connection" recipe), so migrations
run on the same engine, pragmas and all, whether from ``organise-bot db upgrade``
or at start-up.

On PostgreSQL several processes may start at once (a container restarted beside a
running one, two instances on one database): each upgrade first takes an advisory
lock held until its transaction ends, so they migrate one after another and the
later ones find nothing left to do, instead of creating the same tables twice.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from storage.db import OPEN_ERRORS, Database

MIGRATIONS = Path(__file__).with_name("migrations")
# The advisory lock's key: any number other software on the database will not use
# (the first eight bytes of sha256("organise-bot migrations"), as a signed bigint).
MIGRATION_LOCK = 0x4DFF_D5D6_A1E9_3E69


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
        if not database.is_sqlite:  # SQLite's own write lock already serialises them
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
            )
        await connection.run_sync(run)


async def behind(database: Database) -> set[str]:
    """The newest revisions (heads) the database has not reached; empty when it is
    up to date. Reads only: nothing is migrated."""

    def current(connection: Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    async with database.engine.connect() as connection:
        reached = await connection.run_sync(current)
    return set(ScriptDirectory.from_config(alembic_config()).get_heads()) - reached


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
