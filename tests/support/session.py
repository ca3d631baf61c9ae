"""An App started for the length of an ``async with`` block."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from bot.app import App


class AppSession:
    app: App

    async def __aenter__(self) -> Self:
        await self.app.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.app.stop()
