"""Drive the real core through the console adapter, errbot-style: ``say`` a line,
get back exactly what the bot printed for it."""

from __future__ import annotations

import asyncio
import io
from types import TracebackType

from adapters.console import ConsoleAdapter
from bot.app import App
from bot.clock import Clock
from bot.config import Config


class ConsoleSession:
    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.output = io.StringIO()
        self.console = ConsoleAdapter(config.console, out=self.output)
        self.app = App(config, [self.console], clock=clock)
        self._read = 0

    async def __aenter__(self) -> ConsoleSession:
        await self.app.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.app.stop()

    async def say(self, *lines: str) -> str:
        """Type each line and wait until its messages are delivered; return the new output."""
        for line in lines:
            await self.console.feed(line)
            async with asyncio.timeout(10):
                await self.app.senders["console"].idle()
        text = self.output.getvalue()
        new, self._read = text[self._read :], len(text)
        return new
