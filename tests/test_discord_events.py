"""Meetings in a Discord server's Events list: the real App and discord.py against
the fake Discord, whose scheduled-event routes follow Discord's rules for an
External event (a location and an end time, nothing changed once finished)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.discord import INVITE_PERMISSIONS
from bot.config import Config, RolesSettings
from bot.meetings.mirror import REFUSED
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.harness import ALICE, Running, running
from tests.support.clock import FakeClock
from tests.support.config import make_config

GC = '!meeting add "GC meeting" "10/3 19:00" "Miners Welfare"'
EVENTS = r"/guilds/\d+/scheduled-events(/\d+)?"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


def config_for(url: str) -> Config:
    admins = RolesSettings(admins=[f"discord:{ALICE.user_id}"])
    return dataclasses.replace(make_config(url), roles=admins)


async def say(bot: Running, text: str, channel: str = "general") -> list[str]:
    """Type ``text``; the messages posted since, once the outbox is idle."""
    before = len(bot.fake.created)
    bot.type(text, channel)
    await bot.fake.wait_for(lambda: len(bot.fake.created) > before)
    await bot.idle()
    return bot.fake.texts()[before:]


def the_event(fake: FakeDiscord) -> dict[str, Any]:
    (event,) = fake.events.values()
    return event


def starts(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["scheduled_start_time"]).astimezone(UTC)


async def test_a_meeting_is_mirrored_moved_and_removed_in_the_servers_events(
    fake: FakeDiscord, sqlite_url: str, clock: FakeClock
) -> None:
    async with running(fake, config_for(sqlite_url), clock=clock) as bot:
        await say(bot, GC)
        event = the_event(fake)
        assert (event["name"], event["entity_type"], event["guild_id"]) == (
            "GC meeting",
            3,  # External
            str(bot.guild.id),
        )
        assert event["entity_metadata"] == {"location": "Miners Welfare"}
        assert starts(event) == datetime(2026, 3, 10, 19, 0, tzinfo=UTC)  # GMT in March
        assert "RSVP" in event["description"]

        bot.type("!meeting ics 1")  # changes nothing: Discord is not asked again
        await bot.posted(len(fake.created) + 1)
        await bot.idle()
        assert len(fake.calls("POST", EVENTS)) == 1
        assert fake.calls("PATCH", EVENTS) == []

        await say(bot, '!meeting move 1 "12/3 18:00"')
        moved = the_event(fake)
        assert moved["id"] == event["id"]
        assert starts(moved) == datetime(2026, 3, 12, 18, 0, tzinfo=UTC)
        assert len(fake.calls("POST", EVENTS)) == 1

        await say(bot, "!meeting cancel 1")
        assert fake.events == {}
        assert len(fake.calls("DELETE", EVENTS)) == 1


async def test_one_event_per_server_however_many_channels_get_the_meeting(
    fake: FakeDiscord, sqlite_url: str, clock: FakeClock
) -> None:
    async with running(fake, config_for(sqlite_url), clock=clock) as bot:
        await say(bot, "!tag area:cannock", "picket-line")
        await say(bot, GC + " --to area:cannock")
        await bot.idle()

    cards = [m for m in fake.created if "GC meeting" in (m["content"] or "")]
    assert {m["channel_id"] for m in cards} == {
        str(bot.guild.channel_ids[name]) for name in ("general", "picket-line")
    }
    assert len(fake.events) == 1


async def test_a_finished_event_is_replaced_by_the_next_date(
    fake: FakeDiscord, sqlite_url: str, clock: FakeClock
) -> None:
    async with running(fake, config_for(sqlite_url), clock=clock) as bot:
        await say(bot, GC)
        first = the_event(fake)
        first["status"] = 3  # Discord completed it
        await say(bot, '!meeting move 1 "12/3 18:00"')

    current = [e for e in fake.events.values() if e["status"] == 1]
    assert len(current) == 1 and current[0]["id"] != first["id"]
    assert starts(current[0]) == datetime(2026, 3, 12, 18, 0, tzinfo=UTC)


async def test_a_server_refusing_manage_events_still_gets_the_meeting_noted_once(
    fake: FakeDiscord, sqlite_url: str, clock: FakeClock
) -> None:
    fake.fail(403, method="POST", path=r"/guilds/\d+/scheduled-events", times=2)
    async with running(fake, config_for(sqlite_url), clock=clock) as bot:
        (card,) = await say(bot, GC)
        (second,) = await say(bot, '!meeting add "Stall" "11/3 10:00" "Market"')

    assert "GC meeting" in card and str(REFUSED) in card.replace("**", "")
    assert "Stall" in second and str(REFUSED) not in second.replace("**", "")
    assert fake.events == {}


def test_the_invite_asks_for_manage_events() -> None:
    assert INVITE_PERMISSIONS.manage_events


async def test_a_series_event_rolls_on_to_the_next_date_with_its_reminder(
    fake: FakeDiscord, sqlite_url: str, clock: FakeClock
) -> None:
    async with running(fake, config_for(sqlite_url), clock=clock) as bot:
        await say(bot, '!meeting add "Stall" "every Thursday 18:00" "Market" --remind 1h')
        first = the_event(fake)
        assert starts(first) == datetime(2026, 3, 5, 18, 0, tzinfo=UTC)
        first["status"] = 3  # the date passed: Discord completed it

        clock.current = datetime(2026, 3, 12, 17, 0, tzinfo=UTC)
        before = len(fake.created)
        await bot.app.timer.run_due()
        await bot.fake.wait_for(lambda: len(fake.created) > before)
        await bot.idle()

    (current,) = [e for e in fake.events.values() if e["status"] == 1]
    assert starts(current) == datetime(2026, 3, 12, 18, 0, tzinfo=UTC)
