"""A poll on Telegram: real python-telegram-bot over HTTP to the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.fakes.telegram.api import (
    callback_update,
    group_chat,
    user,
    visible_text,
)
from tests.support.clock import FakeClock
from tests.support.telegram import TelegramSession, telegram_session

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)

ALICE = user(301, "Alice")
BOB = user(302, "Bob")
DEPOT = group_chat(-1003001, "Depot branch")


@pytest.fixture
async def tg(sqlite_url: str, clock: FakeClock) -> AsyncIterator[TelegramSession]:
    async with telegram_session(sqlite_url, ALICE, clock) as bot:
        yield bot


async def test_votes_by_button_are_answered_privately_and_tallied_live(
    tg: TelegramSession, clock: FakeClock
) -> None:
    (posted,) = await tg.say('/poll "Strike?" "Yes" "No" --anonymous', DEPOT, ALICE)
    assert posted.startswith("📊 Poll #1: Strike?")
    (message,) = tg.sent(DEPOT["id"])
    keyboard = message["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in keyboard] == [["vote:1:0"], ["vote:1:1"]]

    for query, who, data in (("a", ALICE, "vote:1:0"), ("b", BOB, "vote:1:1")):
        tg.api.push(callback_update(data, DEPOT, who, query_id=query))
    answers = [
        await tg.api.wait_for_call(
            "answerCallbackQuery", lambda c, q=q: c["callback_query_id"] == q
        )
        for q in ("a", "b")
    ]
    assert [a["text"] for a in answers] == ["Your vote: A (Yes)", "Your vote: B (No)"]

    mark = tg.api.mark()
    clock.advance(seconds=5)
    await tg.app.timer.run_due()
    edit = await tg.api.wait_for_call("editMessageText", after=mark)
    assert str(edit["chat_id"]) == str(DEPOT["id"])
    shown = visible_text(edit["text"])
    assert shown.count("█████░░░░░ 1 (50%)") == 2 and "2 people have voted." in shown
    assert "Alice" not in shown and "Bob" not in shown
    await asyncio.wait_for(tg.idle(), 5)
