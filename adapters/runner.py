"""Build the adapters the config asks for and run the application until stopped.

This is where platform libraries meet the core: the Telegram and Discord adapters
are imported only when their token is set, so a console-only run needs neither.
With Discord, discord.py's client runs the application (``adapters.discord.
create_bot``'s wiring): logging it in starts everything, closing it stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from typing import Any

from adapters.base import Adapter
from adapters.console import ConsoleAdapter, files_folder, next_line
from bot.app import App
from bot.commands import build_registry
from bot.config import Config
from bot.registry import Registry

log = logging.getLogger(__name__)


def platform_adapters(config: Config, registry: Registry) -> list[Adapter]:
    adapters: list[Adapter] = []
    if config.telegram_token:
        from adapters.telegram import TelegramAdapter

        admins = [
            int(ident)
            for platform, _, ident in (admin.partition(":") for admin in config.roles.admins)
            if platform == "telegram" and ident.isdigit()
        ]
        adapters.append(
            TelegramAdapter(config.telegram_token, config.telegram, list(registry), admins=admins)
        )
    if config.discord_token:
        from adapters.discord import DiscordAdapter

        adapters.append(DiscordAdapter(config.discord, list(registry)))
    return adapters


def wants_console(config: Config, others: list[Adapter]) -> bool:
    return config.console.enabled == "yes" or (config.console.enabled == "auto" and not others)


async def run(config: Config, *, console_only: bool = False, interactive: bool = True) -> None:
    """Serve every enabled adapter; with the console, until its input ends."""
    registry = build_registry()
    adapters = [] if console_only else platform_adapters(config, registry)
    console = (
        ConsoleAdapter(config.console, files=files_folder(config.console, config.database.url))
        if console_only or wants_console(config, adapters)
        else None
    )
    if console is not None:
        adapters.append(console)
    app = App(config, adapters, registry=registry)
    async with _running(app) as stopped:
        if console is not None:
            await drive_console(app, console, interactive)
        else:
            await _until_signalled(stopped)


@contextlib.asynccontextmanager
async def _running(app: App) -> AsyncIterator[asyncio.Future[None]]:
    """Start the app and stop it on the way out; the future ends if it stops by itself
    (Discord refused the bot for good)."""
    if any(adapter.platform == "discord" for adapter in app.adapters):
        from adapters.discord import connected, host

        async with connected(host(app), app.config.discord_token) as gateway:
            yield gateway
        return
    await app.start()
    try:
        yield asyncio.get_running_loop().create_future()
    finally:
        await app.stop()


async def drive_console(app: App, console: ConsoleAdapter, interactive: bool) -> None:
    """Feed typed (or piped) lines to the console adapter, one at a time, waiting
    for each line's messages to be delivered so answers appear in order."""
    sender = app.senders[console.platform]
    if interactive:
        name = app.config.bot.name
        print(f"{name} — console. Try /help; :help lists console commands; Ctrl-D quits.")
    while True:
        line = await next_line(console.prompt if interactive else None)
        if line is None or line.strip() in {":quit", ":exit"}:
            return
        await console.feed(line)
        try:
            async with asyncio.timeout(30):
                await sender.idle()
        except TimeoutError:
            log.warning("the console's messages took over 30 s to deliver")


async def _until_signalled(stopped: asyncio.Future[None]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    signalled = asyncio.create_task(stop.wait())
    either: set[asyncio.Future[Any]] = {signalled, stopped}
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    signalled.cancel()
    if stopped.done():
        stopped.result()  # raises why it stopped
