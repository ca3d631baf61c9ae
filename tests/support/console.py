"""Drive the real core through the console adapter, errbot-style: ``say`` a line,
get back exactly what the bot printed for it."""

from __future__ import annotations

import asyncio
import io

from adapters.console import SPEC as CONSOLE
from adapters.console import ConsoleAdapter, files_folder
from bot.app import App
from bot.clock import Clock
from bot.commands import build_registry
from bot.config import Config
from tests.support.session import AppSession


class ConsoleSession(AppSession):
    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.output = io.StringIO()
        settings = CONSOLE.section(config)
        files = files_folder(settings, config.database.url)
        self.console = ConsoleAdapter(settings, out=self.output, files=files)
        self.app = App(config, [self.console], clock=clock, registry=build_registry())
        self._read = 0

    async def say(self, *lines: str) -> str:
        """Type each line and wait until its messages are delivered; return the new output."""
        for line in lines:
            await self.console.feed(line)
            async with asyncio.timeout(10):
                await self.app.senders["console"].idle()
        text = self.output.getvalue()
        new, self._read = text[self._read :], len(text)
        return new
