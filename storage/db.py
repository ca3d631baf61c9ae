"""The database engine and sessions, SQLite or PostgreSQL behind one interface.

SQLite is the default so a newcomer needs nothing installed. It runs in WAL mode
with a *single* pooled connection: every async session queues for it, so two
commands arriving together are serialised in-process instead of one of them
failing with "database is locked". ``busy_timeout`` covers the other process
(``organise-bot db upgrade`` run while the bot is up). PostgreSQL gets an ordinary
pool and real row locks.

Statement parameters are never put into error messages (``hide_parameters``):
they hold what members typed, and errors end up in logs.

Deleted rows must not linger in the files (an anonymous poll's secret, an erased
person's name): SQLite runs with ``secure_delete``, which overwrites deleted content
with zeros, and :mod:`storage.scrub` empties the write-ahead log (SQLite) or
rewrites the tables (PostgreSQL) after such a deletion.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot import faults
from bot.faults import StartupError
from storage.scrub import Scrubber

# Errors that mean the database cannot be opened or written: the driver's own, and
# the network's (PostgreSQL refusing the connection, or not answering in time).
OPEN_ERRORS = (DBAPIError, OSError)


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
        engine_options.setdefault("hide_parameters", True)
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

    @property
    def where(self) -> str:
        """The database for messages: the file, or the server and database name
        (never the password)."""
        path = sqlite_path(self.url)
        if path is not None:
            return str(path)
        parsed = make_url(self.url)
        return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"

    def check_folder(self) -> None:
        """A SQLite file's folder must exist: SQLite creates the file, not folders,
        and only says "unable to open database file"."""
        path = sqlite_path(self.url)
        if path is not None and not path.parent.is_dir():
            raise StartupError(faults.database_folder_missing(str(path.parent)))

    async def check_writable(self) -> None:
        """Write and roll back, so a read-only file, a read-only server or a missing
        privilege stops the start with one line, rather than every command failing
        later. Needs the migrated schema (it touches ``alembic_version``)."""
        async with self.engine.connect() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
            await connection.rollback()

    def explain(self, error: BaseException) -> StartupError:
        """One of :data:`OPEN_ERRORS` as the line the person running the bot reads."""
        reason = getattr(error, "orig", None) or error
        words = str(reason).lower()
        if "readonly" in words or "read-only" in words:
            return StartupError(faults.database_read_only(self.where))
        if self.is_sqlite:
            return StartupError(faults.database_file_unopenable(self.where, reason))
        return StartupError(faults.database_unreachable(self.where, reason))


def insert_or_skip(session: AsyncSession) -> Callable[[Any], Any]:
    """The dialect's ``insert`` that can say ``ON CONFLICT DO NOTHING``: a row two
    processes (or two updates) create at once is created once, not an error."""
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


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
    """The SQLite file of ``url``, also when written as a URI
    (``sqlite+aiosqlite:///file:organise.db?mode=ro&uri=true``); None for memory."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    if parsed.query.get("uri") == "true" and name.startswith("file:"):
        name = urlsplit(name).path
    return Path(name)
