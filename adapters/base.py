"""What every adapter offers the application: a transport for the outbox
(:class:`bot.delivery.Transport`) plus a life-cycle.

``start`` begins listening and hands every platform update, translated into a core
event, to ``on_event``; it returns once the adapter is listening. ``stop`` undoes it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.delivery import Transport
from bot.types import Event, EventResult

EventHandler = Callable[[Event], Awaitable[EventResult]]


class Adapter(Transport, Protocol):
    async def start(self, on_event: EventHandler) -> None: ...

    async def stop(self) -> None: ...
