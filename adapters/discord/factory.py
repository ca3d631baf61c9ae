"""The Discord bot as one object: ``create_bot()`` for embedding, ``connected()`` for
``organise-bot run``.

discord.py's own life-cycle runs the application: ``bot.start(token)`` logs in, and
the bot's ``setup_hook`` then migrates storage and starts the core, the outbox's
senders, the scheduler and every adapter (the Discord one only listens and publishes
slash commands: the connection is discord.py's); ``bot.close()`` stops them all.
So the bot can run on its own (``bot.run(token)``), inside another asyncio program,
or under an offline harness that only logs in and feeds gateway payloads.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiohttp
import discord
import discord.http

from adapters.discord.adapter import DiscordAdapter, OrganiseClient
from adapters.discord.spec import SPEC
from adapters.runner import build_adapters, register_platforms
from bot import config as configuration
from bot import faults
from bot.app import App
from bot.commands import build_registry
from bot.config import Config, ConfigError
from bot.faults import StartupError
from bot.platform import Adapter
from storage.db import Database
from storage.migrate import upgrade
from storage.platform_state import StateStore

NO_TOKEN = (
    "DISCORD_BOT_TOKEN is not set: copy the bot's token from the Developer Portal "
    "(Bot → Reset Token) into that environment variable"
)
BAD_TOKEN = "Discord refused DISCORD_BOT_TOKEN: copy it again from the Developer Portal"
NO_INTENTS = (
    "Discord refused the gateway: enable the Server Members intent (and Message Content, "
    "for ! commands) under Bot → Privileged Gateway Intents in the Developer Portal"
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
            try:
                await adapter.client.login(token)
            except discord.LoginFailure:
                raise ConfigError(BAD_TOKEN) from None
            return await adapter.publish_commands(force=True)
    finally:
        await database.close()


@contextlib.asynccontextmanager
async def connected(bot: OrganiseClient, token: str) -> AsyncIterator[asyncio.Task[None]]:
    """Log in (which starts the bot's application), connect the gateway and yield its
    task once ready; close the bot — stopping the application — on the way out.

    discord.py reconnects by itself, so the task ends only when Discord refuses the
    bot for good; a refused token or missing intents become a :class:`ConfigError`
    saying what to do, whether at start or (raised from the task) later (:func:`_plainly`).
    """
    async with _plainly(), bot:
        await bot.login(token)
        gateway = asyncio.create_task(bot.connect(), name="discord-gateway")
        ready = asyncio.create_task(bot.wait_until_ready())
        try:
            await asyncio.wait({ready, gateway}, return_when=asyncio.FIRST_COMPLETED)
            if not ready.done():
                await gateway  # raises why it stopped
                raise ConnectionError("the Discord gateway closed before it was ready")
            yield gateway
        finally:
            ready.cancel()
            await bot.close()
            await asyncio.gather(gateway, return_exceptions=True)


async def identify(token: str) -> str:
    """The name of the bot whose token this is, from Discord (logging in, without
    connecting the gateway): ``organise-bot check``."""
    client = discord.Client(intents=discord.Intents.none())
    async with _plainly(), client:
        await client.login(token)
        return str(client.user)


@contextlib.asynccontextmanager
async def _plainly() -> AsyncIterator[None]:
    """Discord's refusals as a :class:`ConfigError` saying what to do; Discord out of
    reach while logging in as a :class:`StartupError`."""
    try:
        yield
    except discord.LoginFailure:
        raise ConfigError(BAD_TOKEN) from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError(NO_INTENTS) from None
    except (aiohttp.ClientError, discord.DiscordServerError) as error:
        where = discord.http.Route.BASE  # discord.py's own, unless aimed elsewhere
        raise StartupError(faults.platform_unreachable("Discord", where, error)) from None


def _discord_adapter(adapters: Sequence[Adapter]) -> DiscordAdapter:
    for adapter in adapters:
        if isinstance(adapter, DiscordAdapter):
            return adapter
    raise ValueError("the application has no Discord adapter")
