"""Several ``organise-bot run`` processes on one PostgreSQL database: one sends
each bot token's messages and polls Telegram, another takes over within seconds
when it is killed, and timers fire once. Real processes, the real PostgreSQL and
the fake Bot API with Telegram's flood limits and its 409 Conflict for a second
poller. Also: first contacts at once register a person once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.discord import SPEC as DISCORD
from adapters.discord import DiscordAdapter, DiscordSettings
from bot.clock import SystemClock
from bot.config import ConfigError
from bot.types import UserRef
from storage.chats import find_chat, register_person
from storage.db import Database
from storage.leadership import Leadership
from storage.meetings import ReminderSend
from storage.models import ChatTag, Person
from tests.conftest import migrated
from tests.fakes.telegram.api import (
    FakeTelegramAPI,
    command_update,
    private_chat,
    user,
)
from tests.support.config import make_config
from tests.support.console import ConsoleSession
from tests.support.databases import advisory_locks
from tests.support.instances import Instances, add_groups, broadcast, eventually

CHATS = 2000
# Telegram's 30 messages a second make the broadcast take over a minute; on a
# loaded machine, several. Waits are generous; nothing here is timed.
DRAIN = 900.0
START = 120.0
MAX_IN_FLIGHT = 16  # adapters/telegram/adapter.py PACING: what a crash may resend
ADA = user(501, "Ada")


async def test_two_first_contacts_at_once_register_the_person_once(database: Database) -> None:
    """Two first button presses at once (or in two processes) by someone new: both
    find the one row, neither fails on the unique constraint."""
    ref = UserRef("telegram", "42", "Ann")
    now = SystemClock().now()

    async def first_contact() -> int:
        async with database.session() as session:
            person = await register_person(session, ref, None, now)
            await asyncio.sleep(0.2)  # both transactions open at once, on PostgreSQL
            return person.id

    first, second = await asyncio.gather(first_contact(), first_contact())
    assert first == second
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 1


async def plan_meeting(url: str, chat_id: str) -> None:
    """A meeting whose reminder falls due a minute or two from now, to a Telegram
    group tagged for it: set up through the console, before any process runs."""
    database = Database(url)
    try:
        async with database.session() as session:
            chat = await find_chat(session, "telegram", chat_id)
            assert chat is not None
            session.add(ChatTag(chat_id=chat.id, tag="region:test"))
    finally:
        await database.close()
    config = make_config(url)
    starts = (SystemClock().now() + timedelta(minutes=3)).astimezone(config.zone)
    async with ConsoleSession(config) as console:
        out = await console.say(
            f'/meeting add "Branch" "{starts:%Y-%m-%d %H:%M}" "Office" --remind 1m --to region:test'
        )
    assert "posted to Group 0" in out, out


def delivered(api: FakeTelegramAPI, *, containing: str) -> Counter[str]:
    """Messages Telegram accepted, by chat, whose text contains ``containing``."""
    return Counter(
        str(call.params["chat_id"])
        for call in api.calls
        if call.method == "sendMessage"
        and call.status == 200
        and containing in str(call.params.get("text", ""))
    )


def refused(api: FakeTelegramAPI) -> list[str]:
    """The calls Telegram answered with 429 Too Many Requests."""
    return [
        f"{call.method} {call.params.get('chat_id')}" for call in api.calls if call.status == 429
    ]


@pytest.mark.parametrize("processes", [2, 3])
async def test_a_broadcast_reaches_every_chat_while_the_sending_process_is_killed(
    postgres_url: str, tmp_path: Path, processes: int
) -> None:
    database = await migrated(postgres_url)
    try:
        chats = await add_groups(database, CHATS)
    finally:
        await database.close()
    await plan_meeting(postgres_url, chats[0])
    async with (
        FakeTelegramAPI(enforce_limits=True) as api,
        Instances(tmp_path, postgres_url, api.token, api.base_url, processes) as group,
    ):
        first = group.started[0]
        await eventually(lambda: group.leader() is first, START, "no process leads")
        await eventually(
            lambda: all(i.log() for i in group.started), START, "a process never started"
        )
        database = Database(postgres_url)
        try:
            await broadcast(database, chats, "Strike ballot opens")
        finally:
            await database.close()
        sent = lambda: sum(delivered(api, containing="Strike ballot").values())  # noqa: E731
        await eventually(lambda: sent() >= 200, DRAIN, "the broadcast never began")
        first.kill()
        await eventually(lambda: group.leader() not in (None, first), START, "no process took over")
        reached = lambda: len(delivered(api, containing="Strike ballot"))  # noqa: E731
        await eventually(lambda: reached() == CHATS, DRAIN, "a chat was never reached")
        # The survivor polls now: a command is answered.
        api.push(command_update("/help", private_chat(ADA), ADA))
        await eventually(
            lambda: bool(delivered(api, containing="")[str(ADA["id"])]),
            START,
            "nobody polled after the takeover",
        )
        reminders = lambda: delivered(api, containing="Reminder</b> — in")  # noqa: E731
        await eventually(lambda: bool(reminders()), DRAIN, "the reminder never went")
        await asyncio.sleep(2)  # a second one, were there one, would go by now
    copies = delivered(api, containing="Strike ballot")
    duplicates = sum(copies.values()) - len(copies)
    assert duplicates <= MAX_IN_FLIGHT
    assert refused(api) == []
    assert reminders() == Counter({chats[0]: 1})
    database = Database(postgres_url)
    try:
        async with database.session() as session:
            sends = await session.scalar(select(func.count()).select_from(ReminderSend))
    finally:
        await database.close()
    assert sends == 1
    assert all(not i.running for i in group.started)
    assert await advisory_locks(postgres_url) == 0


def test_a_discord_process_connects_the_shard_its_config_names() -> None:
    sharded = DiscordAdapter(DiscordSettings(shard_count=4, shard_id=2), [])
    assert (sharded.client.shard_id, sharded.client.shard_count) == (2, 4)
    whole = DiscordAdapter(DiscordSettings(), [])
    assert (whole.client.shard_id, whole.client.shard_count) == (None, None)
    with pytest.raises(ConfigError, match="shard_id should be from 0 to 3"):
        DISCORD.parse({"shard_count": 4, "shard_id": 4})


async def test_one_of_two_leads_and_the_other_takes_over_when_it_stops(
    database: Database,
) -> None:
    """Storage-level: the advisory lock elects one; stopping frees it for the other;
    a notification reaches the other process's listener. SQLite: always elected."""
    events: list[str] = []

    def leadership(name: str) -> Leadership:
        async def elected() -> None:
            events.append(f"{name} leads")

        async def deposed() -> None:
            events.append(f"{name} deposed")

        elections = Leadership(database, retry_seconds=0.1)
        elections.add("telegram:test", elected, deposed)
        elections.listen("organise_test", lambda payload: events.append(f"{name} heard {payload}"))
        return elections

    first, second = leadership("first"), leadership("second")
    await first.start()
    await second.start()
    try:
        if database.is_sqlite:
            assert events == ["first leads", "second leads"]
            return
        assert events == ["first leads"]
        second.notify("organise_test", "rows")
        await eventually(lambda: "first heard rows" in events, 30, "no notification came")
        await first.pause()
        await first.stop()
        await eventually(lambda: "second leads" in events, 30, "nobody took over")
    finally:
        await first.stop()
        await second.stop()
