"""Foundation figures: commands handled per second through the console adapter, and
outbox deliveries per second with pacing off, each on SQLite."""

from __future__ import annotations

import io
import itertools

from adapters.console import ConsoleAdapter, ConsoleSettings
from bench.common import median_rate, scratch_sqlite, table
from bot.app import App
from bot.clock import SystemClock
from bot.commands import build_registry
from bot.config import Config, DatabaseSettings, OutboxSettings, RateLimitSettings
from bot.delivery import UNPACED, Pacing
from bot.outbox import Outbox, Sender
from bot.text import rich
from bot.types import ChatKind, ChatRef, Content, Delivery, Outgoing
from storage.chats import register_chat
from storage.db import Database
from storage.migrate import upgrade

COMMANDS = 300
DELIVERIES = 2000


class NullTransport:
    """Accepts every delivery at once: measures the outbox, not a platform."""

    platform = "bench"
    pacing: Pacing = Pacing(max_in_flight=UNPACED.max_in_flight * 4)

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    async def deliver(self, delivery: Delivery) -> tuple[str, ...]:
        return (str(next(self._ids)),)


async def commands_per_second() -> tuple[float, float]:
    # One console person types every command: the per-person limit is off, or it
    # would answer ten and drop the rest.
    config = Config(
        database=DatabaseSettings(url=scratch_sqlite()),
        outbox=OutboxSettings(poll_seconds=0.05),
        rate_limit=RateLimitSettings(commands=0),
    )
    console = ConsoleAdapter(ConsoleSettings(), out=io.StringIO())
    app = App(config, [console], registry=build_registry())
    await app.start()

    async def run() -> int:
        for _ in range(COMMANDS):
            await console.feed("/whoami")
        await app.senders["console"].idle()
        return COMMANDS

    try:
        return await median_rate(run)
    finally:
        await app.stop()


async def deliveries_per_second() -> tuple[float, float]:
    database = Database(scratch_sqlite())
    await upgrade(database)
    clock = SystemClock()
    outbox = Outbox(clock)
    transport = NullTransport()
    sender = Sender(database, outbox, transport, OutboxSettings(poll_seconds=0.05), pace=False)
    chats = [ChatRef("bench", str(n), f"chat {n}", ChatKind.GROUP) for n in range(DELIVERIES)]
    async with database.session() as session:
        for chat in chats:
            await register_chat(session, chat, clock.now())

    async def run() -> int:
        async with database.session() as session:
            messages = [Outgoing(chat, Content(rich("Picket at the depot, 7am"))) for chat in chats]
            await outbox.enqueue(session, messages)
        await sender.idle()
        return DELIVERIES

    sender.start()
    try:
        return await median_rate(run)
    finally:
        await sender.stop()
        await database.close()


async def main() -> None:
    commands, commands_spread = await commands_per_second()
    deliveries, deliveries_spread = await deliveries_per_second()
    table(
        "Foundation (SQLite, median of 5 runs)",
        [
            ("commands/s via console", f"{commands:8.0f} ± {commands_spread:.0f}"),
            ("outbox deliveries/s, pacing off", f"{deliveries:8.0f} ± {deliveries_spread:.0f}"),
        ],
    )
