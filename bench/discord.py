"""Discord figures: a broadcast through the real adapter (discord.py over HTTP) and the
outbox, to a fake Discord that enforces Discord's limits — 50 requests/s in all and
5 messages per 5 s to a channel, answering 429 past them.

(a) A broadcast to 1,000 channels: the achieved rate as a share of 50 messages/s
    (goal ≥95%) and the 429s met (goal 0).
(b) The same broadcast on Telegram (the fake Bot API enforcing its flood limits)
    and on Discord at once, to 300 chats each so that several runs fit in a few
    minutes: each platform's rate against its rate running alone, over the same
    number of chats (goal: neither drops more than 10%).

Each broadcast is enqueued in one transaction (chats registered beforehand) and
timed from its commit until every message is delivered and recorded. Both
platforms share one database and one outbox, as in the application. Each fake runs
in a process of its own, as a remote service would (``tests.fakes.serve``).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

from adapters.discord import DiscordAdapter, DiscordSettings
from adapters.telegram import TelegramAdapter, TelegramSettings
from bench.common import scratch_sqlite, table
from bot.clock import SystemClock
from bot.config import OutboxSettings
from bot.outbox import Outbox, Sender
from bot.text import rich
from bot.types import ChatKind, ChatRef, Content, Event, EventResult, Outgoing
from storage.chats import register_chat
from storage.db import Database
from storage.migrate import upgrade
from tests.fakes.serve import Served, served

DISCORD_CHATS = 1000
COMBINED_CHATS = 300
RUNS = 3
DISCORD_CEILING = 50.0  # messages/s: Discord's global limit
TELEGRAM_CEILING = 30.0  # messages/s: Telegram's bulk limit
SETTLE = 1.1  # seconds for the fakes' one-second windows to empty between scenarios
TEXT = "Strike ballot result: 87% yes on a 61% turnout. Picket lines from Monday, 6am."


@dataclass
class Platform:
    """One platform's chats and sender, over the shared database and outbox."""

    name: str
    chats: list[ChatRef]
    sender: Sender


@dataclass
class Bench:
    database: Database
    outbox: Outbox
    discord: Platform
    telegram: Platform
    fake_discord: Served

    async def broadcast(self, platform: Platform, count: int) -> float:
        """Messages/s delivering one message to each of the first ``count`` chats,
        from the broadcast's commit to the last delivery recorded."""
        messages = [Outgoing(chat, Content(rich(TEXT))) for chat in platform.chats[:count]]
        async with self.database.session() as session:
            await self.outbox.enqueue(session, messages)
        start = time.perf_counter()  # the commit woke the sender: it runs from here
        await platform.sender.idle()
        return count / (time.perf_counter() - start)


async def _ignore(event: Event) -> EventResult:
    return EventResult()


@contextlib.asynccontextmanager
async def bench() -> AsyncIterator[Bench]:
    database = Database(scratch_sqlite())
    await upgrade(database)
    clock = SystemClock()
    outbox = Outbox(clock)
    discord_chats = [
        ChatRef("discord", str(900_000_000_000_000_000 + n), f"#branch-{n}", ChatKind.GROUP)
        for n in range(DISCORD_CHATS)
    ]
    telegram_chats = [
        ChatRef("telegram", str(-1_003_000_000 - n), f"Branch {n}", ChatKind.GROUP)
        for n in range(COMBINED_CHATS)
    ]
    async with database.session() as session:
        for chat in discord_chats + telegram_chats:
            await register_chat(session, chat, clock.now())
    settings = OutboxSettings(poll_seconds=0.05)
    async with served("discord") as fake_discord, served("telegram") as fake_telegram:
        discord = DiscordAdapter(DiscordSettings())
        await discord.client.login(fake_discord.token)
        telegram = TelegramAdapter(
            fake_telegram.token, TelegramSettings(base_url=fake_telegram.telegram_base_url)
        )
        await telegram.start(_ignore)
        senders = [Sender(database, outbox, adapter, settings) for adapter in (discord, telegram)]
        for sender in senders:
            sender.start()
        try:
            yield Bench(
                database,
                outbox,
                Platform("discord", discord_chats, senders[0]),
                Platform("telegram", telegram_chats, senders[1]),
                fake_discord,
            )
        finally:
            for sender in senders:
                await sender.stop()
            await telegram.stop()
            await discord.client.close()
            await database.close()


async def refused(fake: Served) -> int:
    """The 429s the fake Discord has given so far."""
    async with aiohttp.ClientSession() as session, session.get(fake.stats_url) as response:
        stats = await response.json()
    return int(stats["refused"])


async def fan_out(run: Bench) -> tuple[float, float]:
    """(a): median share of Discord's ceiling and median 429s per run."""
    shares, refusals = [], []
    await asyncio.sleep(SETTLE)  # the logins count against the fake's global window
    for _ in range(RUNS):
        before = await refused(run.fake_discord)
        shares.append(await run.broadcast(run.discord, DISCORD_CHATS) / DISCORD_CEILING)
        refusals.append(await refused(run.fake_discord) - before)
    return statistics.median(shares), statistics.median(refusals)


async def side_by_side(run: Bench) -> dict[str, tuple[float, float]]:
    """(b): each platform's median rate alone and with the other broadcasting too."""
    alone: dict[str, list[float]] = {"discord": [], "telegram": []}
    together: dict[str, list[float]] = {"discord": [], "telegram": []}
    for _ in range(RUNS):
        for platform in (run.discord, run.telegram):
            await asyncio.sleep(SETTLE)
            alone[platform.name].append(await run.broadcast(platform, COMBINED_CHATS))
        await asyncio.sleep(SETTLE)
        rates = await asyncio.gather(
            run.broadcast(run.discord, COMBINED_CHATS), run.broadcast(run.telegram, COMBINED_CHATS)
        )
        together["discord"].append(rates[0])
        together["telegram"].append(rates[1])
    return {
        name: (statistics.median(alone[name]), statistics.median(together[name])) for name in alone
    }


async def main() -> None:
    async with bench() as run:
        share, refusals = await fan_out(run)
        before = await refused(run.fake_discord)
        pairs = await side_by_side(run)
        discord_refusals = await refused(run.fake_discord) - before
        telegram_refusals = run.telegram.sender.stats.rate_limited  # PTB retries none itself
    rows = [
        (f"(a) achieved rate / 50 msg/s, {DISCORD_CHATS} channels (goal ≥95%)", f"{share:8.1%}"),
        ("(a) 429s per run (goal 0)", f"{refusals:8.0f}"),
    ]
    for name, (alone, together) in pairs.items():
        drop = 1 - together / alone
        rows += [
            (f"(b) {name} msg/s alone, {COMBINED_CHATS} chats", f"{alone:8.1f}"),
            (f"(b) {name} msg/s beside the other platform", f"{together:8.1f}"),
            (f"(b) {name} rate drop (goal ≤10%)", f"{drop:8.1%}"),
        ]
    both = f"{discord_refusals} / {telegram_refusals}"
    rows.append(("(b) 429s in all of (b), Discord / Telegram (goal 0)", f"{both:>8}"))
    table(f"Discord fan-out to a fake enforcing Discord's limits (SQLite; medians of {RUNS})", rows)
