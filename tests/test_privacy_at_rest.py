"""Byte-level checks that what is deleted is gone from the database's files, on
SQLite and PostgreSQL: an anonymous poll's secret and voter keys after it closes
(also when the process is killed right after the close), and a person after
/forgetme."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sys
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select

from storage.db import Database
from storage.models import Base, Person
from storage.polls import Poll, PollBallot
from tests.conftest import migrated
from tests.support.at_rest import database_bytes, found_in
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession

VOTERS = ("sam", "kim", "ann")


@pytest.fixture
async def bot(database: Database, clock: FakeClock) -> AsyncIterator[ConsoleSession]:
    async with ConsoleSession(make_config(database.url), clock) as session:
        yield session


async def anonymous_poll_with_votes(bot: ConsoleSession) -> list[str]:
    """Post an anonymous poll, vote (and change a vote); return what would link a
    vote to a person: the secret, the stored keys, and each voter's key."""
    await bot.say('/yesno "Secret?" --anonymous')
    await bot.say(":user sam", ":press 1", ":user kim", ":press 2", ":user ann", ":press 1")
    await bot.say(":press 2")
    if not bot.app.db.is_sqlite:
        # What autovacuum does at some point: sample the columns into pg_statistic.
        async with bot.app.db.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql("ANALYZE")
    async with bot.app.db.session() as session:
        poll = await session.get(Poll, 1)
        assert poll is not None and poll.secret is not None
        secret = poll.secret
        stored = list(await session.scalars(select(PollBallot.voter)))
    keys = [
        hmac.new(bytes.fromhex(secret), f"console:{who}".encode(), hashlib.sha256).hexdigest()
        for who in VOTERS
    ]
    assert sorted(stored) == sorted(keys)
    return [secret, *keys]


async def test_a_closed_anonymous_poll_leaves_no_secret_or_key_in_the_files(
    bot: ConsoleSession,
) -> None:
    links = await anonymous_poll_with_votes(bot)
    # The reader does find them while the poll is open: a clean result means something.
    assert found_in(await database_bytes(bot.app.db), links) == links
    assert "Poll #1 (closed)" in await bot.say(":user alice", "/poll close 1")
    await bot.app.db.scrubber.idle()
    assert found_in(await database_bytes(bot.app.db), links) == []


async def test_a_close_killed_before_its_scrub_is_scrubbed_at_the_next_start(
    database: Database, clock: FakeClock
) -> None:
    async with ConsoleSession(make_config(database.url), clock) as bot:
        links = await anonymous_poll_with_votes(bot)
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.support.close_and_die", database.url, "1"
    )
    assert await worker.wait() == -9  # SIGKILL, right after the close committed
    async with database.session() as session:
        poll = await session.get(Poll, 1)
        assert poll is not None and poll.closed_at is not None and poll.secret is None
    # Killed before its scrub: the old rows are still in the files...
    assert found_in(await database_bytes(database), links) != []
    # ...until the next start catches up.
    async with ConsoleSession(make_config(database.url), clock) as bot:
        await bot.app.db.scrubber.idle()
        assert found_in(await database_bytes(bot.app.db), links) == []
        assert "Result: B. No (2 votes)" in await bot.say("/poll results 1")


async def test_the_scrub_waits_for_a_transaction_that_could_still_see_the_rows(
    postgres_url: str, clock: FakeClock
) -> None:
    """VACUUM FULL keeps row versions an open snapshot may still read: the scrub
    waits for such a transaction to end, then removes them."""
    database = await migrated(postgres_url)
    try:
        async with ConsoleSession(make_config(postgres_url), clock) as bot:
            links = await anonymous_poll_with_votes(bot)
            async with database.engine.connect() as connection:
                reader = await connection.execution_options(isolation_level="REPEATABLE READ")
                await reader.execute(select(func.count()).select_from(Person))  # a snapshot
                await bot.say(":user alice", "/poll close 1")
                await reader.rollback()
            await bot.app.db.scrubber.idle()
            assert found_in(await database_bytes(bot.app.db), links) == []
    finally:
        await database.close()


def _diffs(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def test_the_migration_builds_what_the_models_say(database: Database) -> None:
    async with database.engine.connect() as connection:
        diffs = await connection.run_sync(_diffs)
    assert [d for d in diffs if "scrubs_owed" in repr(d) or "chat_id" in repr(d)] == []
