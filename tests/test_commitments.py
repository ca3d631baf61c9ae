"""Those who said they'd come hear of changes privately, with the reason, and the
copies in the chats show the reason (issue 17, problem 4)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Config
from tests.support.alerts_worker import AlertsConsole, alerts_config
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession
from tests.test_alerts_console import PICKET, branch_with_three_chats, copies
from tests.test_meetings import buttons


@pytest.fixture
async def bot(sqlite_url: str, clock: FakeClock) -> AsyncIterator[AlertsConsole]:
    async with AlertsConsole(alerts_config(sqlite_url), clock) as session:
        await branch_with_three_chats(session)
        yield session


async def test_picket_pledgers_hear_of_a_correction_and_a_cancel_with_its_reason(
    bot: AlertsConsole,
) -> None:
    out = await bot.say(PICKET)
    await bot.say(":chat cannock", ":user bob", ":press 2", ":user sam", ":press 2")
    await bot.say(":user dana")  # dana never pressed
    out = await bot.say(":chat branch", ":user alice", "/picket correct 1 --hours 7-11")
    assert "and telling the 2 who said they'd be there privately" in out
    assert "[@bob] ✏ Correction (hours) to the picket you said you'd be at:" in out
    assert "[@sam] ✏ Correction (hours)" in out and "07:00–11:00" in copies(out)["@sam"]
    assert "@dana" not in out

    out = await bot.say("/picket cancel 1 Employer made a new offer")
    chats = copies(out)
    for chat in ("branch", "cannock"):
        assert "CANCELLED — Picket line: Lye Depot" in chats[chat]
        assert "Reason: Employer made a new offer" in chats[chat]
    assert "[@bob] ❌ Cancelled: the picket you said you'd be at is off." in out
    assert "Reason: Employer made a new offer" in chats["@bob"]
    assert "I'll be there" not in chats["@bob"]


async def test_a_strike_called_off_reaches_its_picket_volunteers(bot: AlertsConsole) -> None:
    await bot.say("/strike add 1 3/3 4/3", ":press 1")  # no ballot: confirmed anyway
    await bot.say(PICKET)  # tomorrow, Tue 3 Mar: during the strike
    await bot.say(":chat cannock", ":user bob", ":press 3", ":user alice", ":chat branch")
    out = await bot.say("/strike cancel 1 Deal agreed: 5% from April")
    assert "and telling 1 picket volunteers privately" in out
    chats = copies(out)
    assert "Reason: Deal agreed: 5% from April" in chats["cannock"]
    assert "[@bob] ❌ Strike called off. You said you'd be at a picket" in out


async def test_meeting_cancel_tells_those_going_why(sqlite_url: str) -> None:
    config: Config = make_config(sqlite_url)
    async with ConsoleSession(config, clock=FakeClock()) as console:
        out = await console.say('/meeting add "Branch meeting" "Thu 18:00" "Union office"')
        await console.say(":user sam", f":press {buttons(out)['Going']}", ":user alice")
        out = await console.say("/meeting cancel 1 The hall is flooded")
        assert "[branch] ❌ Cancelled: The hall is flooded" in out
        assert "[@sam] ❌ Cancelled: The hall is flooded" in out
