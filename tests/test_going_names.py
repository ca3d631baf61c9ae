"""Who is coming (issue 16, part 2): ``/meeting going`` and ``/picket going`` give
members a count and the organisers of a chat the names of those who pressed in that
chat only — privately, never to the group, never across chats, never after
/forgetme, never for presses from before the chat was kept."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import update

from storage.alerts import PicketPledge
from storage.meetings import MeetingRsvp
from tests.support.alerts_worker import AlertsConsole, alerts_config
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession
from tests.test_alerts_console import PICKET, branch_with_three_chats, copies
from tests.test_meetings import buttons

FOR_ORGANISERS = "Names are shown only to this chat's organisers."


def going_in(out: str, chat: str) -> int:
    """The number of the "Going" button on ``chat``'s newest card in ``out``."""
    return buttons(copies(out)[chat])["Going"]


@pytest.fixture
async def bot(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleSession]:
    """Meeting #1 posted to branch and depot; org organises branch only."""
    async with ConsoleSession(make_config(sqlite_url), clock) as session:
        await session.say(
            "/tag region:cannock", ":chat depot", "/tag region:cannock", ":chat branch"
        )
        await session.say(":user org", "/start", ":user alice", "/grant org organiser")
        await session.say(":chat depot", ":user org", "/start", ":chat branch", ":user alice")
        yield session


async def meeting_with_two_going(bot: ConsoleSession) -> None:
    """sam says going in branch, kim in depot."""
    out = await bot.say('/meeting add "AGM" "Thu 18:00" "Hall" --to region:cannock')
    out = await bot.say(":user sam", f":press {going_in(out, 'branch')}")
    await bot.say(":user kim", f":press {going_in(out, 'depot')}")


async def test_a_member_gets_only_the_count(bot: ConsoleSession) -> None:
    await meeting_with_two_going(bot)
    out = await bot.say(":user kim", ":chat depot", "/meeting going 1")
    assert "2 people going to #1 AGM, Thu 5 Mar." in out and FOR_ORGANISERS in out
    assert "sam" not in out and "kim only" not in out and "@" not in out


async def test_an_organiser_sees_privately_only_the_names_pressed_in_their_chat(
    bot: ConsoleSession,
) -> None:
    await meeting_with_two_going(bot)
    out = await bot.say(":user org", ":chat branch", "/meeting going 1")
    here, private = copies(out)["branch"], copies(out)["@org"]
    assert "2 people going to #1 AGM" in here and "sent you the names privately" in here
    assert "sam" not in here and "kim" not in here
    assert "Said so in branch: sam" in private and "kim" not in private
    # In depot org is a member: the count, no names — kim's name stays in depot.
    out = await bot.say(":chat depot", "/meeting going 1")
    assert FOR_ORGANISERS in out and "kim" not in out and "@org" not in out
    # A TULO or admin in depot sees depot's names only.
    out = await bot.say(":user alice", "/meeting going 1")
    assert "Said so in depot: kim" in copies(out)["@alice"] and "sam" not in out


async def test_names_follow_the_latest_press_and_forgetme(bot: ConsoleSession) -> None:
    await meeting_with_two_going(bot)
    out = await bot.say(":user org", ":chat branch", "/meeting going 1 5/3")
    assert "Said so in branch: sam" in out
    out = await bot.say(":user sam", "/forgetme")
    await bot.say(f":press {buttons(out)['forget']}")
    out = await bot.say(":user org", ":chat branch", "/meeting going 1")
    assert "1 person going" in out and "Said so in branch: nobody yet" in out
    assert "sam" not in out


async def test_an_answer_from_before_chats_were_kept_is_counted_not_named(
    bot: ConsoleSession,
) -> None:
    await meeting_with_two_going(bot)
    async with bot.app.db.session() as session:
        await session.execute(update(MeetingRsvp).values(chat_id=None))
    out = await bot.say(":user org", ":chat branch", "/meeting going 1")
    assert "2 people going" in out and "Said so in branch: nobody yet" in out
    assert "sam" not in out and "kim" not in out


async def test_a_meeting_from_elsewhere_or_a_bad_date_is_refused(bot: ConsoleSession) -> None:
    await bot.say('/meeting add "Rally" "every Thu 18:00" "Square"')  # branch only
    out = await bot.say(":chat depot", "/meeting going 1")
    assert "There's no meeting #1 here." in out
    out = await bot.say(":chat branch", "/meeting going 1 6/3")
    assert "Meeting #1 has no date still to come on Fri 6 Mar" in out


# --- pickets --------------------------------------------------------------------------


@pytest.fixture
async def alerts(sqlite_url: str, clock: FakeClock) -> AsyncIterator[AlertsConsole]:
    """Picket #1 announced to branch and cannock (not stafford); org organises branch."""
    async with AlertsConsole(alerts_config(sqlite_url), clock) as session:
        await branch_with_three_chats(session)
        await session.say(":user org", "/start", ":user alice", "/grant org organiser")
        out = await session.say(PICKET)
        there = re.findall(r"\[(\d+)\] ✋ I'll be there", out)
        await session.say(":user sam", f":press {there[0]}", ":user bob", f":press {there[1]}")
        yield session


async def test_picket_names_only_to_the_organisers_of_the_chat_pressed_in(
    alerts: AlertsConsole,
) -> None:
    out = await alerts.say(":user bob", ":chat cannock", "/picket going 1")
    assert "2 people said they'll be at picket #1, Lye Depot" in out and FOR_ORGANISERS in out
    assert "sam" not in out and "(to bob" not in out
    out = await alerts.say(":user org", ":chat branch", "/picket going 1")
    assert "sent you the names privately" in copies(out)["branch"]
    assert "Said so in branch: sam" in copies(out)["@org"] and "bob" not in out
    out = await alerts.say(":user org", ":chat cannock", "/picket going 1")
    assert FOR_ORGANISERS in out and "bob" not in out


async def test_picket_names_respect_forgetme_and_legacy_pledges(alerts: AlertsConsole) -> None:
    out = await alerts.say(":user bob", ":chat cannock", "/forgetme")
    await alerts.say(f":press {buttons(out)['forget']}")
    out = await alerts.say(":user alice", "/picket going 1")
    assert "1 person said" in out and "Said so in cannock: nobody yet" in out
    async with alerts.app.db.session() as session:
        await session.execute(update(PicketPledge).values(chat_id=None))
    out = await alerts.say(":chat branch", "/picket going 1")
    assert "1 person said" in out and "Said so in branch: nobody yet" in out
    assert "sam" not in out


async def test_a_picket_not_announced_here_is_refused(alerts: AlertsConsole) -> None:
    out = await alerts.say(":user bob", ":chat stafford", "/picket going 1", "/picket going 9")
    assert "There's no picket #1 here." in out and "There's no picket #9 here." in out
    out = await alerts.say(":user alice", "/picket going 1")  # an admin: anywhere
    assert "2 people said" in out and "Said so in stafford: nobody yet" in out
