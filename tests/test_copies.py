"""Copies posted to many chats (:mod:`bot.copies`), on SQLite and PostgreSQL: one
table for announcements, meeting cards and polls, the migration that moved the three
old tables into it (and back), and finding or deleting a subject's copies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, func, select, text

from bot.copies import delete
from storage.copies import Copy, by_message, posted_in
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from storage.models import Chat, OutboxRow
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession

BEFORE = "names_0001"  # the revision before copies_0001
DAY_BEFORE_AGM = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)  # the clock starts on Mon 2 Mar


@pytest.fixture
async def bot(database: Database, clock: FakeClock) -> AsyncIterator[ConsoleSession]:
    """An announcement, a meeting and a poll, each posted to depot and branch."""
    async with ConsoleSession(make_config(database.url), clock) as session:
        await session.say(
            "/tag region:cannock", ":chat depot", "/tag region:cannock", ":chat branch"
        )
        await session.say(
            "/alert send region:cannock Rally at noon",
            '/meeting add "AGM" "Thu 18:00" "Hall" --to region:cannock',
            '/poll "Strike?" "Yes" "No" --to region:cannock',
        )
        yield session


async def _copies(database: Database) -> set[tuple[Any, ...]]:
    """Every copy, without its own id, with the outbox row its key finds."""
    async with database.session() as session:
        rows = await session.execute(
            select(
                Copy.subject,
                Copy.subject_id,
                Copy.occurrence,
                Copy.chat_id,
                Copy.dedupe_key,
                Copy.detail,
                OutboxRow.id,
            ).outerjoin(OutboxRow, OutboxRow.dedupe_key == Copy.dedupe_key)
        )
        return {(*row[:5], tuple(sorted(row[5].items())), row[6]) for row in rows}


async def _downgrade(database: Database, revision: str) -> None:
    def run(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def _count(database: Database, table: str, where: str = "") -> int:
    async with database.engine.connect() as connection:
        found = await connection.scalar(text(f"SELECT count(*) FROM {table} {where}"))
    return int(found or 0)


async def test_the_migration_moves_every_copy_into_one_table_and_back(
    bot: ConsoleSession, database: Database, clock: FakeClock
) -> None:
    clock.current = DAY_BEFORE_AGM  # the AGM's reminders are copies too
    await bot.app.timer.run_due()
    assert (await bot.say(":help")).count("⏰ Reminder — in 1 day") == 2
    await bot.app.stop()
    before = await _copies(database)
    subjects = {row[0] for row in before}
    assert subjects == {"broadcast", "meeting", "poll"} and len(before) == 8
    assert all(row[6] is not None for row in before)  # every copy finds its outbox row

    await _downgrade(database, BEFORE)
    # The old tables have the rows back, with their outbox rows found again by key.
    assert await _count(database, "broadcast_copies", "WHERE outbox_id IS NOT NULL") == 2
    assert await _count(database, "poll_posts", "WHERE outbox_id IS NOT NULL") == 2
    assert await _count(database, "meeting_posts", "WHERE kind = 'announce'") == 2
    reminders = "WHERE kind = 'reminder' AND offset_minutes = 1440 AND NOT late"
    assert await _count(database, "meeting_posts", reminders) == 2

    await upgrade(database)  # and from rows in the old tables into copies again
    assert await _copies(database) == before
    async with ConsoleSession(make_config(database.url), clock) as again:
        out = await again.say(":chat depot", "/poll close 1")  # the copies still work
    assert out.count("edited") == 2


async def test_a_copy_is_found_by_chat_and_by_its_message_then_deleted(
    bot: ConsoleSession, database: Database
) -> None:
    async with database.session() as session:
        depot = await session.scalar(select(Chat).where(Chat.platform_chat_id == "depot"))
        assert depot is not None
        poll = await session.scalar(
            select(OutboxRow).where(OutboxRow.dedupe_key == f"poll:1:{depot.id}")
        )
        assert poll is not None and poll.message_ids
        found = await by_message(session, depot.id, poll.message_ids.split(",")[-1])
        assert found is not None and (found.subject, found.subject_id) == ("poll", 1)
        assert await by_message(session, depot.id, "no such message") is None
        assert await posted_in(session, "poll", 1, depot.id)
        assert not await posted_in(session, "poll", 2, depot.id)
        assert await delete(session, bot.app.services, "poll", 1) == 2
    await bot.app.senders["console"].idle()  # woken by the commit
    assert bot.output.getvalue().count("deleted)") == 2
    async with database.session() as session:
        deletes = select(func.count()).where(OutboxRow.op == "delete")
        assert await session.scalar(deletes) == 2
