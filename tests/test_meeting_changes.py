"""Changing meetings as a branch secretary does over a winter (issue 17, problems
1, 2 and 6), on Friday 4 December 2026: one date of a series moved, a date skipped,
a meeting's details edited, a series given a last date — and a guessed time fixed by
answering with the time alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from adapters.console import ConsoleSettings
from bot.meetings.recurrence import schedule_of
from storage.meetings import Meeting, skips_of
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession
from tests.test_meetings import buttons, saved_file

FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
GC = '/meeting add "GC meeting" "first Tuesday of the month 19:30" "Miners\' Welfare, Cannock"'
STALL = '/meeting add "Street stall" "every Saturday 10:00" "Market Square"'


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(FRIDAY)


@pytest.fixture
async def bot(sqlite_url: str, clock: FakeClock, tmp_path: Path) -> AsyncIterator[ConsoleSession]:
    files = ConsoleSettings(files=str(tmp_path / "files"))
    config = make_config(sqlite_url).with_platform("console", files)
    async with ConsoleSession(config, clock=clock) as session:
        yield session


async def test_moving_one_date_keeps_the_series_and_its_skips(bot: ConsoleSession) -> None:
    await bot.say(GC)  # the first Tuesday of December has passed: next is Tue 5 Jan
    out = await bot.say("/meeting skip 1 2/2")
    assert "Not happening on Tue 2 Feb. The next one is Tue 5 Jan:" in out
    await bot.say(":user sam", ":press 1", ":user alice")  # sam is going on Tue 5 Jan
    out = await bot.say('/meeting move 1 5/1 "Wed 6 Jan 19:30"')
    assert "➡️ New time — this meeting has moved." in out
    assert "🕖 Wed 6 Jan 2027, 19:30 GMT" in out
    assert "🔁 on the first Tuesday of each month at 19:30" in out  # still a series
    assert "(message #1 edited) ➡️ Moved to Wed 6 Jan 2027, 19:30 GMT." in out
    assert "➡️ Moved from Tue 5 Jan. You said you were going" in out  # sam, privately
    out = await bot.say("/meetings")
    assert "Wed 6 Jan 2027, 19:30 GMT" in out and "✅ 1 going" in out
    out = await bot.say("/meeting skip 1 2/3")  # still a series, its skip kept
    assert "Not happening on Tue 2 Mar. The next one is Wed 6 Jan:" in out
    assert "happens once" not in out
    async with bot.app.db.session() as session:
        meeting = await session.get(Meeting, 1)
        assert meeting is not None
        skips = (await skips_of(session, [1]))[1]
        upcoming = list(islice(schedule_of(meeting).occurrences(FRIDAY, skips), 3))
    assert [f"{o.astimezone(LONDON):%a %d %b %H:%M}" for o in upcoming] == [
        "Wed 06 Jan 19:30",
        "Tue 06 Apr 19:30",
        "Tue 04 May 19:30",
    ]


async def test_a_new_time_alone_asks_which_date_moves(bot: ConsoleSession) -> None:
    await bot.say(GC)
    out = await bot.say('/meeting move 1 "Wed 6 Jan 19:30"')
    assert "This moves only the meeting of Tue 5 Jan" in out
    assert "--series" in out
    out = await bot.say(f":press {buttons(out)['Confirm']}")
    assert "🕖 Wed 6 Jan 2027, 19:30 GMT" in out
    out = await bot.say('/meeting move 1 --series "first Wednesday of the month 19:00"')
    assert "🔁 on the first Wednesday of each month at 19:00" in out
    out = await bot.say("/meeting move 1 12/1 18:30")
    assert "no date still to come on Tue 12 Jan" in out


async def test_skipping_a_date_names_the_next_one_still_to_come(bot: ConsoleSession) -> None:
    await bot.say(STALL)
    out = await bot.say("/meeting skip 1 26/12")
    assert "Not happening on Sat 26 Dec. The next one is Sat 5 Dec:" in out
    assert "🕖 Sat 5 Dec 2026, 10:00 GMT" in out
    assert "2 Jan" not in out


async def test_editing_a_meetings_details_and_a_series_last_date(bot: ConsoleSession) -> None:
    await bot.say(GC)
    await bot.say(":user sam", ":press 1", ":user alice")
    out = await bot.say(
        '/meeting edit 1 --where "Cannock Library" --duration 2h --until 31/3 '
        "--link https://meet.jit.si/cannock-gc"
    )
    assert "Meeting #1 changed (place, link, duration, until)" in out
    assert "(message #1 edited)" in out and "📍 Cannock Library" in out
    assert "🕖 Tue 5 Jan 2027, 19:30 GMT, until 21:30" in out
    assert "until Wed 31 Mar 2027" in out
    assert "[@sam] ✏ Changed: place, link, duration, until. You said you were going." in out
    out = await bot.say("/meeting ics 1")
    [event] = Calendar.from_ical(saved_file(out, "gc-meeting.ics").read_bytes()).walk("VEVENT")
    assert event["RRULE"]["UNTIL"][0] == datetime(2027, 3, 31, 22, 59, 59, tzinfo=UTC)
    assert (event["DTEND"].dt - event["DTSTART"].dt).total_seconds() == 7200
    out = await bot.say('/meeting edit 1 --title "GC"', "/meetings")
    assert "#1 GC" in out
    out = await bot.say("/meeting edit 1")
    assert "What should change?" in out
    out = await bot.say("/meeting edit 1 --duration 19:00")
    assert "It can't end at 19:00: it starts at 19:30." in out


async def test_fix_asks_for_the_time_alone_in_the_next_message(bot: ConsoleSession) -> None:
    out = await bot.say('/meeting add "Stall" "every Saturday" "Market Square"')
    assert "No time was given, so I assumed 19:00." in out
    out = await bot.say(f":press {buttons(out)['Fix']}")
    assert "(to alice only) Send the time as your next message here." in out
    assert "Send it again" not in out
    out = await bot.say(":user sam", "10am")  # someone else's message is not the answer
    assert "I only answer commands" in out and "📅" not in out
    out = await bot.say(":user alice", "10am")
    assert "✔ Confirmed: Sat 5 Dec 2026, 10:00 GMT." in out
    assert "🔁 every Saturday at 10:00" in out and "📅 Stall  #1" in out
    out = await bot.say("10am")  # answered: the next message is just a message again
    assert "I only answer commands" in out

    out = await bot.say('/meeting add "Social" "Fri" "The Swan"', ":press 7")
    assert "What time should it be?" in out
    out = await bot.say("half seven")
    assert "I couldn't read “half seven”" in out  # not understood: asked again, kept
    out = await bot.say("7:30pm")
    assert "🕖 Fri 4 Dec 2026, 19:30 GMT" in out


async def test_a_pending_answer_expires(bot: ConsoleSession, clock: FakeClock) -> None:
    out = await bot.say('/meeting add "Social" "Fri" "The Swan"')
    await bot.say(f":press {buttons(out)['Fix']}")
    clock.advance(hours=2)
    out = await bot.say("18:00")
    assert "I only answer commands" in out and "📅" not in out
