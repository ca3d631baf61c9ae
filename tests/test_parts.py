"""A message of several parts through the outbox, the real python-telegram-bot and
the fake Bot API: each part is paced as a message of its own, and a retry resumes
at the first part not yet out instead of sending the earlier ones again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from adapters.telegram import TelegramAdapter, TelegramSettings
from bot.delivery import Limit, Pacing, Scope
from bot.outbox.pacing import Pacer
from bot.text import rich
from bot.types import ChatKind, ChatRef, Content, Event, EventResult, Outgoing
from storage.db import Database
from tests.fakes.telegram.api import FakeTelegramAPI
from tests.support.clock import FakeClock
from tests.support.outbox import Rig

# PTB's own RetryAfter constructor reads its deprecated int ``retry_after``.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)

GROUP = ChatRef("telegram", "-1001234", "Depot branch", ChatKind.GROUP)
LINES = [f"{n:04} " + "x" * 995 for n in range(9)]  # three parts of 4,096 at most
LONG = Outgoing(GROUP, Content(rich("\n".join(LINES))))


async def ignore(_event: Event) -> EventResult:
    return EventResult()


@dataclass
class Telegram:
    """The fake Bot API, and the outbox sending to it through the real adapter."""

    api: FakeTelegramAPI
    rig: Rig[TelegramAdapter]

    def texts(self) -> list[str]:
        """The text of every message the group got, in order."""
        return [
            call.params["text"]
            for call in self.api.calls
            if call.method == "sendMessage" and call.status == 200
        ]


@pytest.fixture
async def tg(database: Database, clock: FakeClock) -> AsyncIterator[Telegram]:
    async with FakeTelegramAPI() as api:
        settings = TelegramSettings(base_url=api.base_url, base_file_url=api.base_file_url)
        adapter = TelegramAdapter(api.token, settings, ())
        await adapter.start(ignore)
        rig = Rig(database, clock, adapter)
        rig.sender.pacer = Pacer(Pacing())  # each test sets the limits it is about
        try:
            yield Telegram(api, rig)
        finally:
            await rig.sender.stop()
            await adapter.stop()


async def test_a_429_on_part_two_resumes_at_part_two(tg: Telegram) -> None:
    tg.api.fail_retry_after("sendMessage", 7, after=1)
    tg.rig.sender.start()
    [row_id] = await tg.rig.put(LONG)
    await tg.rig.settle()

    row = await tg.rig.row(row_id)
    first = row.message_ids
    assert (row.status, len(tg.texts())) == ("pending", 1)
    assert first and "," not in first  # part 1 is out, and kept
    assert row.next_attempt_at == tg.rig.clock.now() + timedelta(seconds=7)

    tg.rig.clock.advance(seconds=7)
    await tg.rig.settle()

    row = await tg.rig.row(row_id)
    assert row.status == "sent"
    assert row.message_ids.split(",")[0] == first and len(row.message_ids.split(",")) == 3
    assert "\n".join(tg.texts()) == "\n".join(LINES)  # each part once, in order


async def test_each_part_counts_in_the_chat_window_and_an_edit_reaches_every_part(
    tg: Telegram,
) -> None:
    window = 0.3
    tg.rig.sender.pacer = Pacer(Pacing((Limit(2, window, Scope.CHAT),)))  # real time
    tg.rig.sender.start()
    [row_id, _] = await tg.rig.put(LONG, Outgoing(GROUP, Content(rich("after it"))))
    await tg.rig.settle()

    sends = [call.at for call in tg.api.calls if call.method == "sendMessage"]
    assert len(sends) == 4
    for earlier, later in zip(sends, sends[2:], strict=False):
        assert later - earlier >= window  # never three in a window, parts included
    assert "\n".join(text for text in tg.texts() if text != "after it") == "\n".join(LINES)

    edited = [line.replace("x", "y") for line in LINES]
    async with tg.rig.db.session() as session:
        assert row_id is not None
        await tg.rig.outbox.enqueue_edit(session, row_id, Content(rich("\n".join(edited))))
    await tg.rig.settle()

    edits = [call.params for call in tg.api.calls if call.method == "editMessageText"]
    ids = (await tg.rig.row(row_id)).message_ids.split(",")
    assert [edit["message_id"] for edit in edits] == ids  # each part once, in turn
    assert "\n".join(edit["text"] for edit in edits) == "\n".join(edited)
