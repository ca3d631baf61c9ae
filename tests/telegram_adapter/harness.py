"""The Telegram adapter against a fake Bot API: real python-telegram-bot, real HTTP
over loopback, only the server is fake (tests/fakes/telegram/api.py). This is what
every test here shares; the fixtures ``api`` and ``tg`` are in conftest.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from adapters.telegram import TelegramAdapter, TelegramSettings
from bot.registry import Command, Role
from bot.types import (
    Attachment,
    ChatKind,
    ChatRef,
    Content,
    Delivery,
    Event,
    EventResult,
    Op,
    UserRef,
)
from tests.fakes.telegram.api import FakeTelegramAPI, group_chat, user

# PTB's own RetryAfter constructor reads its deprecated int ``retry_after``; the
# adapter reads it without the warning (adapters/telegram/outgoing.py).
QUIET_RETRY_AFTER = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)

TIMEOUT = 5.0
ADA = user(101, "Ada", "Lovelace", "ada")
BOB = user(102, "Bob", "Crow")
DEPOT = group_chat(-1001234, "Depot branch")
COMMANDS = (
    Command("help", "What I can do"),
    Command("alert", "Tell everyone about an action " * 20, role=Role.ORGANISER),
)


@dataclass
class Harness:
    """A started adapter whose core records every event and answers with ``reply``."""

    api: FakeTelegramAPI
    adapter: TelegramAdapter
    events: asyncio.Queue[Event]
    reply: Callable[[Event], EventResult] = lambda _event: EventResult()

    async def on_event(self, event: Event) -> EventResult:
        self.events.put_nowait(event)
        return self.reply(event)

    async def next_event(self) -> Event:
        return await asyncio.wait_for(self.events.get(), TIMEOUT)

    async def send(self, content: Content, chat_id: str = "-1001234") -> tuple[str, ...]:
        return await self.adapter.deliver(Delivery(Op.SEND, chat_id, content, nonce="n"))


async def started(
    api: FakeTelegramAPI, settings: TelegramSettings | None = None, **options: float
) -> Harness:
    settings = settings or TelegramSettings(base_url=api.base_url, base_file_url=api.base_file_url)
    adapter = TelegramAdapter(api.token, settings, COMMANDS, **options)
    harness = Harness(api, adapter, asyncio.Queue())
    await adapter.start(harness.on_event)
    return harness


def ada_ref(is_admin: bool = False) -> UserRef:
    return UserRef("telegram", "101", "Ada Lovelace", is_chat_admin=is_admin)


DEPOT_REF = ChatRef("telegram", "-1001234", "Depot branch", ChatKind.GROUP)
CALENDAR = Attachment(
    "gc-meeting.ics",
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    b"BEGIN:VEVENT\r\nSUMMARY:GC\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    "text/calendar",
)
