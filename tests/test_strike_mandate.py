"""Strike dates checked against the dispute's ballot, as a TULO would meet it on
Friday 4 December 2026 (issue 17, problem 3): a date the mandate does not cover is
shown to confirm with the reason, never silently accepted; a past date is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from storage.alerts import Strike, StrikeProposal
from tests.support.alerts_worker import AlertsConsole, alerts_config
from tests.support.clock import FakeClock
from tests.test_alerts_console import branch_with_three_chats, copies

FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
async def bot(sqlite_url: str) -> AsyncIterator[AlertsConsole]:
    async with AlertsConsole(alerts_config(sqlite_url), FakeClock(FRIDAY)) as session:
        await branch_with_three_chats(session)
        yield session


async def strikes(bot: AlertsConsole) -> int:
    return await bot.scalar(select(func.count()).select_from(Strike))


async def test_a_strike_with_no_ballot_is_asked_about_not_announced(bot: AlertsConsole) -> None:
    out = await bot.say("/strike add 1 14/12 15/12")
    assert "Check before announcing this strike" in out
    assert "No ballot is recorded for dispute #1" in out
    assert "[1] Go ahead anyway   [2] Don't" in out
    assert "[cannock]" not in out and await strikes(bot) == 0
    out = await bot.say(":user bob", ":press 2")
    assert "Only the organiser who was asked can answer this." in out
    out = await bot.say(":user alice", ":press 2")
    assert "Not done: no strike was recorded." in out
    assert await strikes(bot) == 0
    out = await bot.say(":press 1")
    assert "That question was answered already" in out and await strikes(bot) == 0


async def test_strike_dates_before_the_notice_period_ends_are_confirmed_first(
    bot: AlertsConsole,
) -> None:
    await bot.say("/ballot add 1 16/11 2/12 1000")
    out = await bot.say("/ballot result 1 600 400 150")
    assert "action may start on Mon 14 Dec at the earliest" in out

    out = await bot.say("/strike add 1 10/12 11/12")
    assert "Action may start on Mon 14 Dec at the earliest: 10 days' notice" in out
    assert "These dates start on Thu 10 Dec." in out
    assert "Thu 10 Dec – Fri 11 Dec (all day)" in out
    assert "[cannock]" not in out and await strikes(bot) == 0
    out = await bot.say(":press 1")
    assert "Done: the strike is recorded and announced." in out
    assert "Strike: UNISON at Sandwell Council" in copies(out)["cannock"]
    assert await strikes(bot) == 1
    out = await bot.say(":press 1")
    assert "answered already" in out and await strikes(bot) == 1

    out = await bot.say("/strike add 1 14/12 15/12")  # covered: announced at once
    assert "Check before" not in out
    assert "Mon 14 Dec – Tue 15 Dec (all day)" in copies(out)["cannock"]

    out = await bot.say("/strike add 1 30/11/2027 2/12/2027")
    assert "Ballot #1's mandate runs until Wed 1 Dec 2027; these dates end on Thu 2 Dec" in out
    out = await bot.say("/strike add 1 30/11/2027 1/12/2027")
    assert "Check before" not in out and await strikes(bot) == 3


async def test_an_invalid_or_unfinished_ballot_is_a_reason_to_ask(bot: AlertsConsole) -> None:
    await bot.say("/ballot add 1 1/12 18/12 1000 --quiet")
    out = await bot.say("/strike add 1 4/1 5/1 --quiet")
    assert "Ballot #1 has no result yet (it closes Fri 18 Dec)" in out
    assert "Check before recording this strike" in out
    await bot.say("/ballot add 1 16/11 2/12 1000 --quiet", "/ballot result 2 300 200 90")
    out = await bot.say("/strike add 1 4/1 5/1")
    assert "Ballot #2's result was not a valid mandate" in out
    out = await bot.say(":press 3")
    assert "Recorded" not in out and "Strike: UNISON" in copies(out)["cannock"]


async def test_a_date_already_past_this_year_is_an_error_not_next_year(
    bot: AlertsConsole,
) -> None:
    out = await bot.say("/strike add 1 1/12 2/12")
    assert "“1/12” was Tue 1 Dec 2026, which has passed." in out
    assert "write the year: 1/12/2027" in out
    assert "2027" in out and "Check before" not in out
    out = await bot.say("/strike add 1 4/1 5/1")  # January: next year, as meant
    assert "Mon 4 Jan 2027 – Tue 5 Jan 2027 (all day)" in out
    assert await bot.scalar(select(func.count()).select_from(StrikeProposal)) == 1
