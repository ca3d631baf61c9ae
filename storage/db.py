"""The database engine and sessions, SQLite or PostgreSQL behind one interface.

SQLite is the default so a newcomer needs nothing installed. It runs in WAL mode
with a *single* pooled connection: every async session queues for it, so two
commands arriving together are serialised in-process instead of one of them
failing with "database is locked". ``busy_timeout`` covers the other process
(``organise-bot db upgrade`` run while the bot is up). PostgreSQL gets an ordinary
pool and real row locks.

Deleted rows must not linger in the files (an anonymous poll's secret, an erased
person's name): SQLite runs with ``secure_delete``, which overwrites deleted content
with zeros, and :mod:`storage.scrub` empties the write-ahead log (SQLite) or
rewrites the tables (PostgreSQL) after such a deletion.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.scrub import Scrubber


class Database:
    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = url
        self.is_sqlite = make_url(url).get_backend_name() == "sqlite"
        if self.is_sqlite:
            engine_options.setdefault("pool_size", 1)
            engine_options.setdefault("max_overflow", 0)
            engine_options.setdefault("pool_timeout", 300)
        else:
            engine_options.setdefault("pool_size", 10)
        self.engine: AsyncEngine = create_async_engine(url, **engine_options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.scrubber = Scrubber(self)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed if the block succeeds, rolled back if it raises,
        so a failed command never leaves a half-written row."""
        async with self._sessions() as session, session.begin():
            yield session

    async def close(self) -> None:
        await self.scrubber.idle()
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted content is overwritten with zeros instead of left in free space.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)
