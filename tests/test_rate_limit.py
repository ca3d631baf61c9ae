"""The per-person rate limit: a flood by one person in one chat gets one "slow down"
and no more answers until the rate allows, while everyone else is answered."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from bot import private_answers
from bot.config import RateLimitSettings, RolesSettings
from bot.ratelimit import SLOW_DOWN, RateLimiter, Verdict
from bot.types import ChatRef, UserRef
from tests.fakes.telegram.api import (
    FakeTelegramAPI,
    callback_update,
    command_update,
    group_chat,
    user,
)
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession
from tests.support.telegram import TelegramSession, shown

LIMIT = RateLimitSettings(commands=10, seconds=30.0)


@pytest.fixture
async def bot(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleSession]:
    config = dataclasses.replace(make_config(sqlite_url), rate_limit=LIMIT)
    async with ConsoleSession(config, clock) as session:
        yield session


async def test_a_flood_gets_one_slow_down_and_others_are_still_answered(
    bot: ConsoleSession, clock: FakeClock
) -> None:
    answers = [await bot.say("/whoami") for _ in range(25)]
    assert all("You are alice" in answer for answer in answers[:10])
    assert SLOW_DOWN in answers[10]
    assert answers[11:] == [""] * 14  # dropped: no reply at all

    assert "/whoami" in await bot.say(":user sam", "/help")  # someone else, same chat
    assert "You are alice" in await bot.say(":user alice", ":chat other", "/whoami")

    clock.advance(seconds=29)
    assert await bot.say(":chat branch", "/whoami") == ""
    clock.advance(seconds=1)  # the first ten leave the window
    assert "You are alice" in await bot.say("/whoami")


async def test_a_steady_flood_is_answered_at_the_rate_and_told_once(
    bot: ConsoleSession, clock: FakeClock
) -> None:
    answers = []
    for _ in range(45):  # one every 2 s for 90 s: three windows' worth
        answers.append(await bot.say("/whoami"))
        clock.advance(seconds=2)
    assert sum("You are alice" in answer for answer in answers) == 30  # 10 in each 30 s
    assert sum(SLOW_DOWN in answer for answer in answers) == 1
    clock.advance(seconds=30)  # a whole window without an answer: a new flood is told
    answers = [await bot.say("/whoami") for _ in range(11)]
    assert SLOW_DOWN in answers[-1] and SLOW_DOWN not in answers[-2]


async def test_button_presses_count_too(bot: ConsoleSession, clock: FakeClock) -> None:
    await bot.say('/poll "Strike?" "Yes" "No"')
    presses = [await bot.say(":press 1") for _ in range(11)]
    assert all("Your vote: A (Yes)" in press for press in presses[:9])
    assert SLOW_DOWN in presses[9]
    assert presses[10] == ""
    clock.advance(seconds=31)
    assert "Your vote: A (Yes)" in await bot.say(":press 1")


def test_idle_people_are_forgotten() -> None:
    clock = FakeClock()
    limiter = RateLimiter(LIMIT, clock)
    chat = ChatRef("console", "branch")
    for n in range(1000):
        assert limiter.check(chat, UserRef("console", str(n), "")) is Verdict.ANSWER
    assert len(limiter) == 1000
    clock.advance(seconds=31)
    limiter.check(chat, UserRef("console", "late", ""))
    assert len(limiter) == 1


def test_zero_turns_it_off() -> None:
    limiter = RateLimiter(RateLimitSettings(commands=0), FakeClock())
    who = (ChatRef("console", "branch"), UserRef("console", "alice", ""))
    assert {limiter.check(*who) for _ in range(1000)} == {Verdict.ANSWER}
    assert len(limiter) == 0


# --- through the real Telegram adapter ------------------------------------------------

FLOODER = user(401, "Flo")
OTHER = user(402, "Olu")
PRESSER = user(403, "Pat")
GROUP = group_chat(-1004001, "Depot branch")


@pytest.fixture
async def tg(sqlite_url: str, clock: FakeClock) -> AsyncIterator[TelegramSession]:
    config = dataclasses.replace(
        make_config(sqlite_url), roles=RolesSettings(admins=[]), rate_limit=LIMIT
    )
    async with FakeTelegramAPI() as api, TelegramSession(api, config, clock) as bot:
        yield bot


async def test_a_flood_on_telegram_is_cut_to_the_rate(tg: TelegramSession) -> None:
    mark = tg.api.mark()
    tg.api.push(*(command_update("/help", GROUP, FLOODER) for _ in range(25)))
    tg.api.push(command_update("/help", GROUP, OTHER))  # after the flood, in the same chat
    await tg.api.wait_until(lambda: len(tg.sent(GROUP["id"], after=mark)) >= 12)
    await tg.settled()
    texts = [shown(call) for call in tg.sent(GROUP["id"], after=mark)]
    # Ten answers and one "slow down" for the flooder alone — in the group, only the
    # hint to start a private chat, as they have none — then the other's answer.
    assert len(texts) == 12
    assert [text == private_answers.HINT for text in texts] == [False] * 10 + [True, False]
    assert not any(SLOW_DOWN in text for text in texts)
    assert "/whoami" in texts[-1]


async def test_presses_on_telegram_are_cut_to_the_rate(tg: TelegramSession) -> None:
    tg.api.push(*(callback_update("noop", GROUP, PRESSER, query_id=f"p{n}") for n in range(12)))
    notices = [
        await tg.api.wait_for_call(
            "answerCallbackQuery", lambda call, n=n: call["callback_query_id"] == f"p{n}"
        )
        for n in range(12)
    ]
    assert [notice.get("text") == SLOW_DOWN for notice in notices] == [False] * 10 + [True, False]
    assert "text" not in notices[11]  # answered, as Telegram expects, but with nothing
