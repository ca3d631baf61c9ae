"""The weekly digest a TULO can rely on (issue 17, problem 5), on Friday 4 December
2026: open ballots listed, what is next when the week is empty, regional chats
seeing disputes tagged with a union too, a re-set day kept, and a preview."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from tests.support.alerts_worker import AlertsConsole, alerts_config
from tests.support.clock import FakeClock
from tests.test_alerts_console import DISPUTE, copies

FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
async def bot(sqlite_url: str) -> AsyncIterator[AlertsConsole]:
    async with AlertsConsole(alerts_config(sqlite_url), FakeClock(FRIDAY)) as session:
        await session.say(
            "/tag region:west-midlands union:unison",
            ":chat regional",
            "/tag region:west-midlands",
            ":chat staffs",
            "/tag region:staffordshire",
            ":chat housing",
            "/tag topic:housing",
            ":chat branch",
            DISPUTE.replace("region:west-midlands", "region:west-midlands union:unison"),
        )
        yield session


async def test_a_regional_chat_sees_union_disputes_in_its_region(bot: AlertsConsole) -> None:
    out = await bot.say("/ballot add 1 30/11 21/12 800")  # opened on Monday
    assert set(copies(out)) == {"branch"}  # announcing stays exact: both tags
    for chat, sees in (("regional", True), ("staffs", False), ("housing", False)):
        out = await bot.say(f":chat {chat}", "/digest preview")
        assert ("closes Mon 21 Dec (ballot #1)" in out) is sees, (chat, out)


async def test_the_digest_lists_open_ballots_and_what_is_next(bot: AlertsConsole) -> None:
    out = await bot.say(":chat regional", "/digest preview")
    assert "Nothing planned for the next 7 days" in out and "Further ahead" not in out
    await bot.say(
        ":chat branch",
        "/ballot add 1 16/11 2/12 1000 --quiet",
        "/ballot result 1 600 400 150 --quiet",
        "/strike add 1 14/1/2027 15/1/2027",
    )
    out = await bot.say(":chat regional", "/digest preview")
    assert "Preview of this chat's weekly digest:" in out
    assert "Nothing planned for the next 7 days" in out
    assert "Further ahead" in out and "Thu 14 Jan 2027 – Fri 15 Jan 2027 (all day)" in out
    await bot.say(":chat branch", "/ballot add 1 7/12 18/12 300 --quiet")  # opens Monday
    out = await bot.say(":chat regional", "/digest preview")
    assert "opens Mon 7 Dec, closes Fri 18 Dec (ballot #2)" in out
    assert "Nothing planned" not in out


async def test_changing_the_digest_day_keeps_its_promise(bot: AlertsConsole) -> None:
    out = await bot.say(":chat regional", "/digest on monday 08:00")
    assert "the next on Mon 7 Dec" in out
    out = await bot.tick(days=2, hours=22)  # Monday 08:00
    assert "This week, from Mon 7 Dec" in copies(out)["regional"]
    out = await bot.say("/digest on thursday 18:00")  # this week's went on Monday
    assert "the next on Thu 17 Dec" in out  # not Thu 10 Dec, which would never come
    out = await bot.tick(days=3, hours=10)  # Thursday 10 December, 18:00
    assert "This week" not in out
    out = await bot.tick(days=7)  # Thursday 17 December: the promise kept
    assert "This week, from Thu 17 Dec" in copies(out)["regional"]
