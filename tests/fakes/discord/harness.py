"""A whole bot on the fake Discord: the real App, core, outbox and discord.py client,
started as ``create_bot()`` wires it — logging the client in runs its ``setup_hook``,
which starts the application; closing the client stops it. No gateway connection:
events are gateway payloads handed to discord.py's own parsers (:class:`Gateway`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from adapters.discord import SPEC as DISCORD
from adapters.discord import DiscordAdapter, OrganiseClient, host
from bot.app import App
from bot.clock import Clock
from bot.commands import build_registry
from bot.config import Config
from bot.registry import Registry
from bot.types import ChatRef
from storage.models import Chat
from tests.fakes import WAIT

from .api import TOKEN, Answer, FakeDiscord, FakeGuild, Gateway, Person

ALICE = Person(710000000000000001, "Alice")


@dataclass
class Running:
    """A logged-in bot (so its application runs), and ways to act in its server as
    ``person``."""

    bot: OrganiseClient
    app: App
    fake: FakeDiscord
    guild: FakeGuild
    gateway: Gateway
    person: Person = ALICE

    def slash(
        self, name: str, options: dict[str, Any] | None = None, channel: str = "general"
    ) -> None:
        payload = self.fake.slash(self.guild, channel, self.person, name, options)
        self.gateway.send("INTERACTION_CREATE", payload)

    def type(self, text: str, channel: str = "general") -> None:
        self.gateway.message(self.guild, channel, self.person, text)

    async def answers(self, count: int) -> list[Answer]:
        """The interaction answers, once there are ``count``."""
        await self.fake.wait_for(lambda: len(self.fake.answers) >= count)
        return self.fake.answers

    async def posted(self, count: int) -> list[str]:
        """The text of each channel message, once there are ``count``."""
        await self.fake.wait_for(lambda: len(self.fake.created) >= count)
        return self.fake.texts()

    async def idle(self) -> None:
        """Until the outbox has nothing left to send."""
        async with asyncio.timeout(WAIT):
            await self.app.senders["discord"].idle()

    def channel(self, name: str) -> ChatRef:
        return ChatRef("discord", str(self.guild.channel_ids[name]))

    async def chat(self, name: str) -> Chat | None:
        async with self.app.db.session() as session:
            return await session.scalar(
                select(Chat).where(Chat.platform_chat_id == str(self.guild.channel_ids[name]))
            )

    async def until(self, check: Callable[[], Awaitable[bool]]) -> None:
        """Until background work (the core, the outbox) has made ``check`` true. The
        database has nothing to wait on, so it is looked at every 10 ms."""
        async with asyncio.timeout(WAIT):
            while not await check():  # noqa: ASYNC110
                await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def running(
    fake: FakeDiscord,
    config: Config,
    guild: FakeGuild | None = None,
    *,
    registry: Registry | None = None,
    join: bool = True,
    pace: bool = True,
    clock: Clock | None = None,
) -> AsyncIterator[Running]:
    """A new application and client for ``config``. ``join`` sends the server's
    GUILD_CREATE, as when the bot is added, and waits for the core's greeting;
    ``pace=False`` lifts Discord's 5 messages per 5 s to a channel, for long scripts;
    a ``clock`` is the test's (the timer then runs only when the test runs it)."""
    registry = registry or build_registry()
    adapter = DiscordAdapter(DISCORD.section(config), list(registry), clock=clock)
    app = App(config, [adapter], registry=registry, pace=pace, clock=clock)
    bot = host(app)
    guild = guild or FakeGuild()
    await bot.login(TOKEN)
    try:
        gateway = Gateway(bot)
        if join:
            greeted = len(fake.created) + 1
            gateway.guild_create(guild)
            await fake.wait_for(lambda: len(fake.created) >= greeted)
        yield Running(bot, app, fake, guild, gateway)
    finally:
        await bot.close()
