"""The database at start — missing, read-only, unreachable — and in the logs, on
SQLite and PostgreSQL: one line naming the fault, and no statement parameters."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.faults import StartupError
from storage.db import Database, sqlite_path
from storage.migrate import prepare


def read_only_twin(database: Database) -> Database:
    """The same database, opened so that every write is refused: SQLite's read-only
    mode (file modes do not stop root, who often runs the tests), or a PostgreSQL
    session whose transactions are read-only (as on a standby server)."""
    if database.is_sqlite:
        return Database(f"sqlite+aiosqlite:///file:{sqlite_path(database.url)}?mode=ro&uri=true")
    readonly = {"server_settings": {"default_transaction_read_only": "on"}}
    return Database(database.url, connect_args=readonly)


async def test_a_writable_database_is_ready(database: Database) -> None:
    await prepare(database)


async def test_a_read_only_database_is_refused_at_start(database: Database) -> None:
    twin = read_only_twin(database)
    try:
        with pytest.raises(StartupError, match="is read-only: make the file and its folder"):
            await prepare(twin)
    finally:
        await twin.close()


async def test_a_missing_folder_is_named_before_connecting(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/not/here.db")
    with pytest.raises(StartupError, match=f"the database folder {tmp_path}/not does not exist"):
        await prepare(database)
    await database.close()


def test_the_sqlite_file_is_found_in_a_uri() -> None:
    assert sqlite_path("sqlite+aiosqlite:///file:data/o.db?mode=ro&uri=true") == Path("data/o.db")
    assert sqlite_path("sqlite+aiosqlite:///data/o.db") == Path("data/o.db")
    assert sqlite_path("sqlite+aiosqlite://") is None
    assert sqlite_path("postgresql+asyncpg://u@h/db") is None


async def test_a_failing_statement_logs_no_parameters(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Ada's home address, 1 Picket Lane"
    with pytest.raises(Exception) as caught:
        async with database.session() as session:
            await session.execute(text("SELECT :typed FROM no_such_table"), {"typed": secret})
    logging.getLogger("bot.outbox").error("a statement failed", exc_info=caught.value)

    assert "no_such_table" in caplog.text
    assert secret not in caplog.text
    assert secret not in str(caught.value)
