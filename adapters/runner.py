"""Register every platform, build the adapters the config asks for and run the
application until stopped.

Each platform is its spec (:class:`bot.platform.PlatformSpec`, listed once in
:data:`PLATFORMS`); a spec imports its platform's library only when it builds the
adapter, so a console-only run loads neither python-telegram-bot nor discord.py.
The application is started once and starts every adapter it was given the same way
(the Discord one connects its client itself); it stops them in reverse order. Any
failure — at start, or an adapter refused for good later (``Setup.on_failure``) —
stops what had started and ends :func:`run` with its error, which ``organise-bot``
turns into one line and exit status 2 (config, tokens) or 1 (a platform out of reach).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Any

from adapters import console as console_platform
from adapters import discord as discord_platform
from adapters import telegram as telegram_platform
from adapters.console import ConsoleAdapter, next_line
from adapters.health import HealthServer
from bot.app import App
from bot.commands import build_registry
from bot.config import Config
from bot.platform import Adapter, PlatformSpec, Setup, log_failure, register
from bot.registry import Registry
from storage.db import Database

log = logging.getLogger(__name__)

# Every platform, in the order their adapters start; the console comes last, and
# (with [console] enabled = "auto") only when no other platform has a token.
PLATFORMS: tuple[PlatformSpec[Any], ...] = (
    telegram_platform.SPEC,
    discord_platform.SPEC,
    console_platform.SPEC,
)


def register_platforms() -> None:
    """Make every platform's table, token and roles known to the core: first thing
    at start, before the config is read."""
    register(*PLATFORMS)


def serving(config: Config) -> list[PlatformSpec[Any]]:
    """The platforms with a token: the ones ``run`` serves besides the console."""
    return [spec for spec in PLATFORMS if spec.token_env and spec.token(config)]


def wants_console(config: Config, others: list[PlatformSpec[Any]]) -> bool:
    enabled = console_platform.SPEC.section(config).enabled
    return enabled == "yes" or (enabled == "auto" and not others)


def build_adapters(
    config: Config,
    specs: list[PlatformSpec[Any]],
    registry: Registry,
    database: Database,
    on_failure: Callable[[BaseException], None] = log_failure,
) -> list[Adapter]:
    """Each platform's adapter, built by its spec; ``on_failure`` hears of one that
    stops by itself for good."""
    commands = list(registry)
    return [
        spec.build(
            Setup(config, spec.section(config), spec.token(config), commands, database, on_failure)
        )
        for spec in specs
    ]


async def run(config: Config, *, console_only: bool = False, interactive: bool = True) -> None:
    """Serve every enabled adapter; with the console, until its input ends."""
    registry = build_registry()
    specs = [] if console_only else serving(config)
    if console_only or wants_console(config, specs):
        specs.append(console_platform.SPEC)
    failed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def fail(error: BaseException) -> None:
        if not failed.done():
            failed.set_exception(error)

    database = Database(config.database.url)
    adapters = build_adapters(config, specs, registry, database, on_failure=fail)
    # Every platform with a token is shared with any other process on the database.
    sharing = {spec.name: spec.sharing(config) for spec in specs if spec.token_env}
    app = App(config, adapters, registry=registry, database=database, sharing=sharing)
    console = next((a for a in adapters if isinstance(a, ConsoleAdapter)), None)
    health = None if console_only or not config.health.port else _health(app, config)
    await app.start()  # every adapter the same way; what started is stopped if one fails
    try:
        if health is not None:
            await health.start()
        if console is not None:
            await drive_console(app, console, interactive)
        else:
            await _until_signalled(failed)
    finally:
        if health is not None:
            await health.stop()
        await app.stop()


def _health(app: App, config: Config) -> HealthServer:
    settings = config.health
    log.info(
        "health and metrics on http://%s:%d/healthz and /metrics", settings.listen, settings.port
    )
    return HealthServer(app, settings.listen, settings.port)


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
