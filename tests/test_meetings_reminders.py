"""Reminders driven by an injected clock: offsets and targets, clock changes, a
restart with a reminder pending, reminders missed while down (inside and outside
the grace), two processes on one PostgreSQL, and the schema against the models."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select

from bot.config import Config, MeetingsSettings
from bot.meetings.reminders import TIMER_KEY
from storage.db import Database
from storage.meetings import Meeting, Outcome, ReminderSend, claim
from storage.models import Base, OutboxRow
from tests.conftest import migrated
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession

# Added on Mon 2 Mar 09:00: Tue 3 Mar 19:30 GMT, reminders Mon 19:30 and Tue 18:30.
BRIEFING = '/meeting add "Branch meeting" "tomorrow 19:30" "Union office"'
DAY_BEFORE = datetime(2026, 3, 2, 19, 30, tzinfo=UTC)
HOUR_BEFORE = datetime(2026, 3, 3, 18, 30, tzinfo=UTC)


def config(url: str, grace: int = 60) -> Config:
    return dataclasses.replace(
        make_config(url), meetings=MeetingsSettings(reminder_grace_minutes=grace)
    )


async def tick(bot: ConsoleSession, clock: FakeClock, when: datetime) -> str:
    """Move the clock, run what the timer has due, return what the bot printed."""
    clock.current = when
    await bot.app.timer.run_due()
    return await bot.say(":help")


async def sends(bot: ConsoleSession) -> list[tuple[int, str]]:
    async with bot.app.db.session() as session:
        rows = await session.execute(
            select(ReminderSend.offset_minutes, ReminderSend.outcome).order_by(ReminderSend.at)
        )
        return [(offset, outcome) for offset, outcome in rows]


@pytest.fixture
async def bot(database: Database, clock: FakeClock) -> AsyncIterator[ConsoleSession]:
    async with ConsoleSession(config(database.url), clock=clock) as session:
        yield session


async def test_reminders_go_at_each_offset_to_every_target_and_to_those_going(
    bot: ConsoleSession, clock: FakeClock
) -> None:
    await bot.say(":chat stafford", "/tag region:staffs", ":chat branch", "/tag region:staffs")
    out = await bot.say(BRIEFING + " --to region:staffs")
    going = re.findall(r"\[(\d+)\] ✅ Going", out)[0]
    await bot.say(":user sam", f":press {going}", ":user alice")
    assert bot.app.timer.pending()[TIMER_KEY] <= DAY_BEFORE
    assert "Reminder" not in await tick(bot, clock, DAY_BEFORE - timedelta(seconds=1))
    out = await tick(bot, clock, DAY_BEFORE)
    assert out.count("⏰ Reminder — in 1 day") == 2  # both target chats
    assert "[@sam]" not in out  # the personal nudge comes with the last reminder
    assert "✅ 1 going" in out
    out = await tick(bot, clock, HOUR_BEFORE)
    assert out.count("⏰ Reminder — in 1 hour") == 2
    assert "[@sam] ⏰ Reminder: you said you're going." in out
    assert "[@alice]" not in out
    assert await sends(bot) == [(1440, "sent"), (60, "sent")]
    assert "Reminder" not in await tick(bot, clock, HOUR_BEFORE + timedelta(days=1))


async def test_rsvps_update_the_reminder_copies_too(bot: ConsoleSession, clock: FakeClock) -> None:
    await bot.say(BRIEFING)
    out = await tick(bot, clock, DAY_BEFORE)
    going = re.findall(r"\[(\d+)\] ✅ Going", out)[0]
    out = await bot.say(":user sam", f":press {going}")
    assert out.count("edited") == 2  # the card and the reminder
    assert out.count("✅ 1 going") == 2
    assert "⏰ Reminder — in 1 day" in out  # the reminder is still a reminder


async def test_per_meeting_and_per_chat_offsets(bot: ConsoleSession, clock: FakeClock) -> None:
    await bot.say(":chat stafford", "/tag region:staffs", "/meetingset reminders 2h")
    await bot.say(":chat branch", "/tag region:staffs")
    await bot.say(BRIEFING + " --to region:staffs")  # branch: 1d,1h; stafford: 2h
    await bot.say('/meeting add "Quick one" "tomorrow 19:00" "Office" --remind 30m')
    out = await tick(bot, clock, DAY_BEFORE)
    assert "[branch] ⏰ Reminder — in 1 day" in out and "[stafford]" not in out
    out = await tick(bot, clock, HOUR_BEFORE - timedelta(hours=1))
    assert "[stafford] ⏰ Reminder — in 2 hours" in out and "[branch]" not in out
    out = await tick(bot, clock, datetime(2026, 3, 3, 18, 30, tzinfo=UTC))
    assert "[branch] ⏰ Reminder — in 30 minutes" in out and "Quick one" in out
    assert "[branch] ⏰ Reminder — in 1 hour" in out and "Branch meeting" in out


async def test_reminders_keep_the_wall_time_across_the_clock_change(
    bot: ConsoleSession, clock: FakeClock
) -> None:
    clock.current = datetime(2026, 3, 23, 9, tzinfo=UTC)
    await bot.say('/meeting add "Branch" "every Tuesday 19:30" "Office" --remind 1h')
    assert "19:30 GMT" in await tick(bot, clock, datetime(2026, 3, 24, 18, 30, tzinfo=UTC))
    # 31 March is in BST: 19:30 on the wall is 18:30 UTC, so the reminder is at 17:30 UTC.
    assert "Reminder" not in await tick(bot, clock, datetime(2026, 3, 31, 17, 29, tzinfo=UTC))
    out = await tick(bot, clock, datetime(2026, 3, 31, 17, 30, tzinfo=UTC))
    assert "⏰ Reminder — in 1 hour" in out and "🕖 Tue 31 Mar 2026, 19:30 BST" in out


async def test_a_restart_with_a_reminder_pending(database: Database, clock: FakeClock) -> None:
    async with ConsoleSession(config(database.url), clock=clock) as first:
        await first.say(BRIEFING)
    async with ConsoleSession(config(database.url), clock=clock) as second:
        assert second.app.timer.pending()[TIMER_KEY] <= DAY_BEFORE
        out = await tick(second, clock, DAY_BEFORE)
        assert "⏰ Reminder — in 1 day" in out
    async with ConsoleSession(config(database.url), clock=clock) as third:  # not sent again
        assert "Reminder" not in await tick(third, clock, DAY_BEFORE + timedelta(minutes=5))
        assert "⏰ Reminder — in 1 hour" in await tick(third, clock, HOUR_BEFORE)


async def test_a_reminder_missed_while_down_is_sent_late_within_the_grace(
    database: Database, clock: FakeClock
) -> None:
    async with ConsoleSession(config(database.url), clock=clock) as first:
        await first.say(BRIEFING)
    clock.current = DAY_BEFORE + timedelta(minutes=40)
    async with ConsoleSession(config(database.url), clock=clock) as second:
        out = await second.say(":help")  # what start-up sent
        assert "⏰ Reminder — sent late: I was offline at the time it was due." in out
        assert await sends(second) == [(1440, "late")]


@pytest.mark.parametrize(("grace", "outcome"), [(60, "skipped"), (180, "late")])
async def test_a_reminder_missed_beyond_the_grace_is_skipped_and_logged(
    database: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture, grace: int, outcome: str
) -> None:
    async with ConsoleSession(config(database.url, grace), clock=clock) as first:
        await first.say(BRIEFING)
    clock.current = DAY_BEFORE + timedelta(hours=2)
    with caplog.at_level(logging.WARNING, logger="bot.meetings.reminders"):
        async with ConsoleSession(config(database.url, grace), clock=clock) as second:
            out = await second.say(":help")
            assert ("sent late" in out) is (outcome == "late")
            assert await sends(second) == [(1440, outcome)]
            assert "⏰ Reminder — in 1 hour" in await tick(second, clock, HOUR_BEFORE)
    skipped = [r.getMessage() for r in caplog.records if "skipped the reminder" in r.getMessage()]
    assert len(skipped) == (outcome == "skipped")


async def test_of_several_missed_only_the_latest_is_sent(
    database: Database, clock: FakeClock
) -> None:
    async with ConsoleSession(config(database.url, grace=2 * 24 * 60), clock=clock) as first:
        await first.say(BRIEFING)
    clock.current = HOUR_BEFORE + timedelta(minutes=10)
    async with ConsoleSession(config(database.url, grace=2 * 24 * 60), clock=clock) as second:
        out = await second.say(":help")
        assert out.count("⏰ Reminder") == 1
        assert sorted(await sends(second)) == [(60, "late"), (1440, "skipped")]


async def test_no_reminder_after_the_meeting_has_started(
    database: Database, clock: FakeClock
) -> None:
    async with ConsoleSession(config(database.url, grace=2 * 24 * 60), clock=clock) as first:
        await first.say(BRIEFING)
    clock.current = HOUR_BEFORE + timedelta(hours=2)
    async with ConsoleSession(config(database.url, grace=2 * 24 * 60), clock=clock) as second:
        assert "Reminder" not in await second.say(":help")
        assert sorted(await sends(second)) == [(60, "skipped"), (1440, "skipped")]


async def test_a_broken_meeting_does_not_hold_up_the_others(
    bot: ConsoleSession, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.say(BRIEFING, '/meeting add "Other" "tomorrow 19:30" "Hall"')
    async with bot.app.db.session() as session:
        broken = await session.get(Meeting, 1)
        assert broken is not None
        broken.rule = "FREQ=FORTNIGHTLY"  # unreadable: the expansion raises
    out = await tick(bot, clock, DAY_BEFORE)
    assert out.count("⏰ Reminder") == 1 and "Other" in out
    assert any("meeting 1: reminders failed" in r.getMessage() for r in caplog.records)
    async with bot.app.db.session() as session:
        broken = await session.get(Meeting, 1)
        assert broken is not None and broken.next_reminder_at == DAY_BEFORE + timedelta(minutes=10)


# --- two processes, one database -----------------------------------------------------


async def test_a_claim_is_won_once(database: Database) -> None:
    async with ConsoleSession(make_config(database.url), clock=FakeClock()) as bot:
        await bot.say(BRIEFING)
    key = (1, datetime(2026, 3, 3, 19, 30, tzinfo=UTC), 60)
    now = datetime(2026, 3, 3, 18, 30, tzinfo=UTC)

    async def try_claim() -> set[Any]:
        async with database.session() as session:
            won = await claim(session, [(key, Outcome.SENT)], now)
            await asyncio.sleep(0.05)  # hold the transaction open, so the two overlap
            return won

    results = await asyncio.gather(try_claim(), try_claim())
    assert sorted(len(won) for won in results) == [0, 1]
    assert key in results[0] | results[1]


async def test_two_processes_on_one_postgresql_send_each_reminder_once(
    postgres_url: str,
) -> None:
    await (await migrated(postgres_url)).close()
    clock = FakeClock()
    async with (
        ConsoleSession(config(postgres_url), clock=clock) as one,
        ConsoleSession(config(postgres_url), clock=clock) as two,
    ):
        await one.say(":chat stafford", "/tag region:staffs", ":chat branch", "/tag region:staffs")
        await one.say(BRIEFING + " --to region:staffs")
        await one.say('/meeting add "Stall" "every Saturday 10:00" "Market" --to region:staffs')
        # The second process started before these were added: its sweep finds them.
        for when in (DAY_BEFORE, HOUR_BEFORE, datetime(2026, 3, 6, 10, 0, tzinfo=UTC)):
            clock.current = when
            runs: list[Callable[[], Coroutine[Any, Any, int]]] = [
                one.app.timer.run_due,
                two.app.timer.run_due,
            ]
            await asyncio.gather(*(run() for run in runs))
            await one.say(":help")
            await two.say(":help")
        printed = one.output.getvalue() + two.output.getvalue()
        assert printed.count("⏰ Reminder — in 1 day") == 4  # two meetings, two chats each
        assert printed.count("⏰ Reminder — in 1 hour") == 2
        async with one.app.db.session() as session:
            keys = list(
                await session.scalars(
                    select(OutboxRow.dedupe_key).where(OutboxRow.dedupe_key.like("mtg:%:r%"))
                )
            )
            assert len(keys) == len(set(keys)) == 6
            assert await session.scalar(select(func.count()).select_from(ReminderSend)) == 3


# --- the schema ------------------------------------------------------------------------


async def test_the_migration_matches_the_models(database: Database) -> None:
    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "target_metadata": Base.metadata}
        )
        found = compare_metadata(context, Base.metadata)
        return [d for d in found if "meeting" in repr(d)]

    async with database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
