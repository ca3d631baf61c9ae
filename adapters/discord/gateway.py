"""Logging in and connecting discord.py's client, with Discord's refusals said plainly.

Shared by the adapter, which connects itself when ``organise-bot run`` starts it like
any other, and by ``factory.connected``, for a bot embedded in another program.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import discord
import discord.http

from bot import faults
from bot.config import ConfigError
from bot.faults import StartupError

BAD_TOKEN = "Discord refused DISCORD_BOT_TOKEN: copy it again from the Developer Portal"
NO_INTENTS = (
    "Discord refused the gateway: enable the Server Members intent (and Message Content, "
    "for ! commands) under Bot → Privileged Gateway Intents in the Developer Portal"
)


def explained(error: BaseException) -> BaseException:
    """Discord's refusals as a :class:`ConfigError` saying what to do; Discord out of
    reach as a :class:`StartupError`; anything else as it is."""
    if isinstance(error, discord.LoginFailure):
        return ConfigError(BAD_TOKEN)
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return ConfigError(NO_INTENTS)
    if isinstance(error, aiohttp.ClientError | discord.DiscordServerError):
        where = discord.http.Route.BASE  # discord.py's own, unless aimed elsewhere
        return StartupError(faults.platform_unreachable("Discord", where, error))
    return error


@contextlib.asynccontextmanager
async def plainly() -> AsyncIterator[None]:
    """Whatever goes wrong inside, :func:`explained`."""
    try:
        yield
    except (
        discord.LoginFailure,
        discord.PrivilegedIntentsRequired,
        aiohttp.ClientError,
        discord.DiscordServerError,
    ) as error:
        raise explained(error) from None


async def open_gateway(client: discord.Client, token: str) -> asyncio.Task[None]:
    """Log in, connect the gateway and return its task once the client is ready.

    discord.py reconnects by itself, so the task ends only when Discord refuses the
    bot for good (or the client is closed). If the gateway fails before it is ready,
    the client is closed again and the failure raised, :func:`explained`."""
    gateway: asyncio.Task[None] | None = None
    try:
        async with plainly():
            await client.login(token)
            gateway = asyncio.create_task(client.connect(), name="discord-gateway")
            ready = asyncio.create_task(client.wait_until_ready())
            try:
                await asyncio.wait({ready, gateway}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                ready.cancel()
            if not client.is_ready():
                await gateway  # raises why it stopped
                raise ConnectionError("the Discord gateway closed before it was ready")
    except BaseException:
        await close(client, gateway)
        raise
    return gateway


async def close(client: discord.Client, gateway: asyncio.Task[None] | None) -> None:
    """Close the client and wait for its gateway task to end."""
    await client.close()
    if gateway is not None:
        await asyncio.gather(gateway, return_exceptions=True)
