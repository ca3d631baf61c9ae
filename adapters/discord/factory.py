"""The Discord bot as one object, for embedding: ``create_bot()``, and ``connected()``
to run it inside another asyncio program.

Embedded, discord.py's own life-cycle runs the application: ``bot.start(token)``
logs in, and the bot's ``setup_hook`` then migrates storage and starts the core, the
outbox's senders, the scheduler and every adapter (the Discord one then only listens
and publishes slash commands: the connection is discord.py's); ``bot.close()``
stops them all. So the bot can run on its own (``bot.run(token)``), inside another
asyncio program, or under an offline harness that only logs in and feeds gateway
payloads. ``organise-bot run`` does not embed: it starts the Discord adapter like
any other (``adapters.runner``), and the adapter connects itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import discord
import discord.http

from adapters.discord.adapter import DiscordAdapter, OrganiseClient
from adapters.discord.gateway import close, open_gateway, plainly
from adapters.discord.spec import SPEC
from adapters.runner import build_adapters, register_platforms
from bot import config as configuration
from bot.app import App
from bot.commands import build_registry
from bot.config import Config, ConfigError
from bot.platform import Adapter
from storage.db import Database
from storage.migrate import upgrade
from storage.platform_state import StateStore

NO_TOKEN = (
    "DISCORD_BOT_TOKEN is not set: copy the bot's token from the Developer Portal "
    "(Bot → Reset Token) into that environment variable"
)


def create_bot(config_path: str | Path | None = None) -> OrganiseClient:
    """A fully wired, unstarted bot for the config (``bot.config.load``), serving
    Discord alone; start it with ``bot.run(token)`` or ``await bot.start(token)``,
    where the token is ``$DISCORD_BOT_TOKEN``. ``bot.app`` is the application."""
    register_platforms()
    config = configuration.load(config_path)
    if not SPEC.token(config):
        raise ConfigError(NO_TOKEN)
    registry = build_registry()
    database = Database(config.database.url)
    (adapter,) = build_adapters(config, [SPEC], registry, database)
    return host(App(config, [adapter], registry=registry, database=database))


def host(app: App) -> OrganiseClient:
    """Put ``app`` — which holds a :class:`DiscordAdapter`, and maybe other adapters
    that then start and stop with it — under its Discord client's life-cycle."""
    adapter = _discord_adapter(app.adapters)
    adapter.state = adapter.state or StateStore(app.db)
    adapter.client.host(app)
    return adapter.client


async def publish_commands(config: Config) -> list[str]:
    """``organise-bot discord sync``: publish the slash commands now, changed or not,
    without connecting the gateway; returns where to ("global" or server ids)."""
    token = SPEC.token(config)
    if not token:
        raise ConfigError(NO_TOKEN)
    database = Database(config.database.url)
    try:
        await upgrade(database)
        state = StateStore(database)
        adapter = DiscordAdapter(SPEC.section(config), list(build_registry()), state=state)
        async with adapter.client:
            async with plainly():
                await adapter.client.login(token)
            return await adapter.publish_commands(force=True)
    finally:
        await database.close()


@contextlib.asynccontextmanager
async def connected(bot: OrganiseClient, token: str) -> AsyncIterator[asyncio.Task[None]]:
    """For a bot embedded in another program: log in (which starts the bot's
    application), connect the gateway and yield its task once ready; close the bot —
    stopping the application — on the way out. A refused token or missing intents
    become a :class:`ConfigError` saying what to do, whether at start or (raised from
    the task) later (:func:`gateway.plainly`)."""
    async with plainly():
        task = await open_gateway(bot, token)
        try:
            yield task
        finally:
            await close(bot, task)


async def identify(token: str) -> str:
    """The name of the bot whose token this is, from Discord (logging in, without
    connecting the gateway): ``organise-bot check``."""
    client = discord.Client(intents=discord.Intents.none())
    async with plainly(), client:
        await client.login(token)
        return str(client.user)


def _discord_adapter(adapters: Sequence[Adapter]) -> DiscordAdapter:
    for adapter in adapters:
        if isinstance(adapter, DiscordAdapter):
            return adapter
    raise ValueError("the application has no Discord adapter")
