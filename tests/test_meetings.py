"""Meetings through the console, as organisers and members would use them, on SQLite
and PostgreSQL: adding (and confirming a guessed time), RSVPs with live counts on
every copy, cancel / move / skip, calendar files, chat settings and bad input."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from adapters.console import ConsoleSettings
from bot.meetings import meeting_lines
from storage.chats import find_chat
from storage.db import Database
from storage.meetings import Meeting, MeetingProposal, MeetingRsvp, MeetingSkip
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession

GC = '/meeting add "GC meeting" "first Tuesday of the month 19:30" "Miners\' Welfare, Cannock"'
LONDON = ZoneInfo("Europe/London")
PICKET_BRIEFING = '/meeting add "Picket briefing" "Thu 18:00" "Union office"'


@pytest.fixture
async def bot(
    database: Database, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[ConsoleSession]:
    """The console, saving the files it is sent under ``tmp_path/files``."""
    files = ConsoleSettings(files=str(tmp_path / "files"))
    config = make_config(database.url).with_platform("console", files)
    async with ConsoleSession(config, clock=clock) as session:
        yield session


async def count(bot: ConsoleSession, model: type) -> int:
    async with bot.app.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def buttons(out: str) -> dict[str, int]:
    """The numbers of the buttons in ``out`` by label (the last one of each wins)."""
    return {label: int(n) for n, label in re.findall(r"\[(\d+)\] \S+ ([A-Za-z']+)", out)}


def card_copies(out: str, chat: str) -> list[str]:
    """Each message printed to ``chat`` in ``out``."""
    return re.findall(rf"^\[{re.escape(chat)}\][^\n]*(?:\n {{3,}}[^\n]*)*", out, re.M)


async def test_add_posts_a_card_with_rsvp_buttons_and_live_counts(bot: ConsoleSession) -> None:
    out = await bot.say(GC)
    assert "📅 GC meeting  #1" in out
    assert "🕖 Tue 3 Mar 2026, 19:30 GMT" in out
    assert "🔁 on the first Tuesday of each month at 19:30 (Europe/London time)" in out
    assert "📍 Miners' Welfare, Cannock" in out
    assert "✅ 0 going · 🤔 0 maybe · ❌ 0 can't" in out
    going, maybe, cant = (buttons(out)[label] for label in ("Going", "Maybe", "Can't"))

    out = await bot.say(":user sam", f":press {going}")
    assert "(to sam only) Noted: going — GC meeting, Tue 3 Mar." in out
    assert "(message #1 edited)" in out and "✅ 1 going · 🤔 0 maybe · ❌ 0 can't" in out
    out = await bot.say(":user dana", f":press {maybe}")
    assert "✅ 1 going · 🤔 1 maybe · ❌ 0 can't" in out
    out = await bot.say(":user sam", f":press {going}")
    assert "You already said going." in out and "edited" not in out
    out = await bot.say(f":press {cant}")
    assert "Noted: can't make it" in out
    assert "✅ 0 going · 🤔 1 maybe · ❌ 1 can't" in out
    assert await count(bot, MeetingRsvp) == 2


async def test_every_copy_in_every_target_chat_shows_the_live_count(bot: ConsoleSession) -> None:
    await bot.say(":chat stafford", "/tag region:staffs", ":chat cannock", "/tag region:staffs")
    out = await bot.say(":chat branch", PICKET_BRIEFING + " --to region:staffs")
    assert "[cannock] 📅 Picket briefing  #1" in out and "[stafford] 📅 Picket briefing" in out
    assert "Meeting #1 Picket briefing posted to stafford, cannock." in out
    going = buttons(card_copies(out, "cannock")[0])["Going"]
    out = await bot.say(":user sam", f":press {going}")
    edited = [line for line in out.splitlines() if "edited" in line]
    assert len(edited) == 2  # both copies, wherever the press came from
    assert out.count("✅ 1 going") == 2
    out = await bot.say(":chat stafford", "/meetings")
    assert "#1 Picket briefing" in out and "Thu 5 Mar 2026, 18:00 GMT" in out
    out = await bot.say(":chat elsewhere", "/meetings", "/meeting ics 1")
    assert "No meetings coming up here" in out
    assert "There's no meeting #1 here" in out


async def test_a_guessed_time_is_shown_for_confirm_or_fix(bot: ConsoleSession) -> None:
    out = await bot.say('/meeting add "Stall" "every 2 weeks on Thursday" "Market Square"')
    assert "Please check: I read “every 2 weeks on Thursday” as every other Thursday" in out
    assert "Thu 5 Mar 2026, 19:00 GMT" in out
    assert "No time was given, so I assumed 19:00." in out
    assert await count(bot, Meeting) == 0
    confirm = buttons(out)["Confirm"]
    out = await bot.say(":user sam", f":press {confirm}")
    assert "Only the organiser who was asked can answer this." in out
    out = await bot.say(":user alice", f":press {confirm}")
    assert "✔ Confirmed: Thu 5 Mar 2026, 19:00 GMT." in out  # the question, edited
    assert "📅 Stall  #1" in out and "🔁 every other Thursday at 19:00" in out
    out = await bot.say(f":press {confirm}")
    assert "answered already" in out
    assert await count(bot, Meeting) == 1

    out = await bot.say('/meeting add "Social" "next Friday 8pm" "The Swan"')
    assert "“next Friday” can mean the coming one or the one after" in out
    out = await bot.say(f":press {buttons(out)['Fix']}")
    assert "What time should it be? Send just the time as your next message here" in out
    assert "You wrote: “next Friday 8pm”" in out
    assert await count(bot, Meeting) == 1
    out = await bot.say("Fri 13/3 8pm")  # the answer, in the next message: no retyping
    assert "✔ Confirmed: Fri 13 Mar 2026, 20:00 GMT." in out and "📅 Social  #2" in out
    assert await count(bot, MeetingProposal) == 0


@pytest.mark.parametrize(
    ("line", "answer"),
    [
        ('/meeting add "GC" "sometime soonish" "Hall"', "I couldn't read “sometime soonish”"),
        ('/meeting add "GC" "today 8am" "Hall"', "Mon 2 Mar 2026, 08:00, which has already passed"),
        ('/meeting add "GC" "31/2 19:00" "Hall"', "Dates are day first"),
        ('/meeting add "GC" "tomorrow 7pm"', "Where is it? Give a place"),
        ('/meeting add "GC" "tomorrow 7pm" Hall --link meet.example', "--link should be a web"),
        ('/meeting add "GC" "tomorrow 7pm" Hall --remind soon', "I couldn't read the reminders"),
        (f'/meeting add "{"x" * 201}" "tomorrow 7pm" Hall', "The title is too long"),
        ('/meeting add "GC" "tomorrow 7pm" Hall --to region:nowhere', "No chat has tags"),
        ("/meeting cancel 99", "There's no meeting #99 here"),
        ("/meeting move 99 Thu 7pm", "There's no meeting #99 here"),
        ("/meeting skip twelve", "id should be a whole number"),
        ("/meeting ics 5", "There's no meeting #5 here"),
        ("/meeting frob", "/meeting has no “frob”"),
        ("/meetingset timezone Mars/Olympus", "isn't a time zone I know"),
        ("/meetingset reminders often", "I couldn't read the reminders"),
    ],
)
async def test_bad_input_gets_a_friendly_reply_and_writes_nothing(
    bot: ConsoleSession, line: str, answer: str
) -> None:
    out = await bot.say(line)
    assert answer in out
    assert "Traceback" not in out and "Sorry, something went wrong" not in out
    assert await count(bot, Meeting) == 0


async def test_members_may_list_and_answer_but_not_organise(bot: ConsoleSession) -> None:
    await bot.say(PICKET_BRIEFING)
    for line, doing in [
        (PICKET_BRIEFING, "/meeting"),
        ("/meeting cancel 1", "/meeting"),
        ("/meetingset reminders 2h", "/meetingset"),
    ]:
        out = await bot.say(":user sam", line)
        assert f"Only organisers can use {doing}" in out
    out = await bot.say("/meetings", "/calendar", "/help")
    assert "#1 Picket briefing" in out and "📎 branch-meetings.ics" in out
    assert "/meeting — Add, change or export a meeting" in out
    assert "/meetings — List the meetings coming up here" in out
    assert "/meetingset" not in out.split("What I can do")[1]


async def test_only_organisers_of_the_chat_it_was_added_in_may_change_it(
    bot: ConsoleSession,
) -> None:
    await bot.say(":chat stafford", "/tag region:staffs", "/start")
    await bot.say(":chat branch", PICKET_BRIEFING + " --to region:staffs")
    await bot.say(":chat stafford", ":user sam", "/start", ":user alice", "/grant sam organiser")
    out = await bot.say(":user sam", "/meeting cancel 1")
    assert "Meeting #1 was added in another chat" in out
    out = await bot.say(":user alice", "/meeting cancel 1")  # an admin may
    assert "❌ Cancelled" in out


async def test_cancel_tells_the_chats_and_those_going(bot: ConsoleSession) -> None:
    going = buttons(await bot.say(GC))["Going"]
    await bot.say(":user sam", f":press {going}", ":user alice")
    out = await bot.say("/meeting cancel 1")
    assert "[branch] (message #1 edited) ❌ Cancelled" in out
    assert "[branch] ❌ Cancelled\n" in out
    assert "[@sam] ❌ Cancelled" in out
    cards = card_copies(out, "branch")
    assert all("Going" not in card for card in cards)
    out = await bot.say(":user sam", f":press {going}", "/meetings")
    assert "That meeting was cancelled." in out and "No meetings coming up here" in out
    out = await bot.say(":user alice", "/meeting cancel 1")
    assert "Meeting #1 was cancelled." in out
    async with bot.app.db.session() as session:
        meeting = await session.get(Meeting, 1)
        assert meeting is not None and meeting.next_reminder_at is None


async def test_move_carries_answers_and_tells_those_going(
    bot: ConsoleSession, clock: FakeClock
) -> None:
    going = buttons(await bot.say(PICKET_BRIEFING))["Going"]
    await bot.say(":user sam", f":press {going}", ":user alice")
    out = await bot.say("/meeting move 1 Fri 18:30")
    assert "[branch] (message #1 edited) ➡️ Moved to Fri 6 Mar 2026, 18:30 GMT." in out
    assert "➡️ New time — this meeting has moved." in out
    assert "🕖 Fri 6 Mar 2026, 18:30 GMT" in out
    assert "✅ 1 going" in out.split("New time")[1]
    assert "[@sam] ➡️ Moved. You said you were going" in out
    out = await bot.say(":user sam", f":press {going}")
    assert "That meeting has moved" in out
    out = await bot.say(":user alice", "/meeting move 1 Fri 18:30")
    assert "Meeting #1 is already at that time." in out
    out = await bot.say("/meeting move 1 next Fri 18:30")  # a guess: confirm first
    assert "Please check" in out
    await bot.say(f":press {buttons(out)['Confirm']}")
    async with bot.app.db.session() as session:
        meeting = await session.get(Meeting, 1)
        assert meeting is not None and meeting.revision == 1
        assert meeting.next_reminder_at == datetime(2026, 3, 5, 18, 30, tzinfo=UTC)


async def test_skip_one_date_of_a_series(bot: ConsoleSession) -> None:
    out = await bot.say('/meeting add "Food bank" "every Saturday 10:00" "Hub"')
    going = buttons(out)["Going"]
    await bot.say(":user sam", f":press {going}", ":user alice")
    out = await bot.say("/meeting skip 1")
    assert "(message #1 edited) ⏭ Not happening this time. The next one is Sat 14 Mar" in out
    assert "[branch] ⏭ Not happening on Sat 7 Mar. The next one is Sat 14 Mar:" in out
    assert "🕖 Sat 14 Mar 2026, 10:00 GMT" in out
    assert "[@sam] ⏭ Not happening on Sat 7 Mar." in out
    out = await bot.say("/meetings")
    assert "Sat 14 Mar 2026, 10:00 GMT" in out
    out = await bot.say("/meeting skip 1 Wed 11/3")
    assert "Meeting #1 has no date still to come on Wed 11 Mar" in out
    out = await bot.say("/meeting skip 1 21/3")
    assert "Not happening on Sat 21 Mar" in out
    assert await count(bot, MeetingSkip) == 2
    await bot.say(PICKET_BRIEFING)
    out = await bot.say("/meeting skip 2")
    assert "Meeting #2 happens once: to call it off, use /meeting cancel 2." in out


def saved_file(out: str, name: str) -> Path:
    """The file the console says it saved as ``name``, which must be there."""
    (where,) = re.findall(
        rf"📎 {re.escape(name)} \([\d.]+ (?:KB|bytes)\) saved to (.+)$", out, re.M
    )
    path = Path(where)
    assert path.name == name and path.is_file()
    return path


async def test_calendar_files_parse_with_local_times_and_rules(
    bot: ConsoleSession, tmp_path: Path
) -> None:
    await bot.say(GC, '/meeting add "Food bank" "every Saturday 10:00" "Hub"', "/meeting skip 2")
    out = await bot.say("/meeting ics 1")
    assert "📅 GC meeting\n" in out
    assert "Tap gc-meeting.ics to add it to your calendar." in out
    assert "add to Google Calendar (https://calendar.google.com/calendar/render?" in out
    assert "save the text" not in out and "BEGIN:VCALENDAR" not in out
    path = saved_file(out, "gc-meeting.ics")
    assert path.parent == tmp_path / "files"
    data = path.read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")  # RFC 5545's line ends
    event = Calendar.from_ical(data).walk("VEVENT")[0]
    assert event.get("dtstart").to_ical() == b"20260303T193000"
    assert event.get("dtstart").params["TZID"] == "Europe/London"
    assert event.get("rrule").to_ical() == b"FREQ=MONTHLY;BYDAY=+1TU"
    out = await bot.say("/calendar")
    assert "📅 branch meetings" in out and "Google" not in out
    events = Calendar.from_ical(saved_file(out, "branch-meetings.ics").read_bytes()).walk("VEVENT")
    assert [str(e.get("summary")) for e in events] == ["GC meeting", "Food bank"]
    assert events[1].get("exdate").to_ical() == b"20260307T100000"


async def test_chat_time_zone_and_reminder_settings(bot: ConsoleSession) -> None:
    out = await bot.say("/meetingset timezone europe/paris")
    assert "Times here are now shown in Europe/Paris (it's 10:00 CET there now)." in out
    out = await bot.say('/meeting add "Réunion" "tomorrow 19:30" "Salle"')
    assert "🕖 Tue 3 Mar 2026, 19:30 CET" in out
    async with bot.app.db.session() as session:
        meeting = await session.get(Meeting, 1)
        assert meeting is not None
        assert meeting.starts_at == datetime(2026, 3, 3, 18, 30, tzinfo=UTC)
        assert meeting.next_reminder_at == datetime(2026, 3, 2, 18, 30, tzinfo=UTC)
    out = await bot.say("/meetingset reminders 2h", "/meetings")
    assert "Reminders here: 2 hours before, for meetings that don't set their own" in out
    assert "Times in Europe/Paris · reminders here 2 hours before" in out
    async with bot.app.db.session() as session:
        meeting = await session.get(Meeting, 1)
        assert meeting is not None
        assert meeting.next_reminder_at == datetime(2026, 3, 3, 16, 30, tzinfo=UTC)
    out = await bot.say(":chat london", "/meetings")
    assert "Times in Europe/London" in out


async def test_forgetme_erases_answers_but_keeps_the_meeting(bot: ConsoleSession) -> None:
    going = buttons(await bot.say(GC))["Going"]
    await bot.say(":user sam", f":press {going}")
    for person in ("sam", "alice"):
        out = await bot.say(f":user {person}", "/forgetme")
        (forget,) = re.findall(r"\[(\d+)\] Yes, forget me", out)
        assert "I have forgotten you" in await bot.say(f":press {forget}")
    assert await count(bot, MeetingRsvp) == 0
    async with bot.app.db.session() as session:
        meeting = await session.get(Meeting, 1)
        assert meeting is not None and meeting.created_by is None


async def test_meeting_lines_for_the_digest(bot: ConsoleSession) -> None:
    await bot.say('/meeting add "Food bank" "every Saturday 10:00" "Hub"', PICKET_BRIEFING)
    await bot.say("/meeting skip 1 14/3")
    async with bot.app.db.session() as session:
        chat = await find_chat(session, "console", "branch")
        assert chat is not None
        start = datetime(2026, 3, 2, 9, tzinfo=UTC)
        lines = await meeting_lines(session, chat, start, start + timedelta(days=14), LONDON)
    assert [str(line) for line in lines] == [
        "• Thu 5 Mar, 18:00 — Picket briefing, Union office (meeting #2)",
        "• Sat 7 Mar, 10:00 — Food bank, Hub (meeting #1)",
    ]


async def test_an_old_question_expires(bot: ConsoleSession, clock: FakeClock) -> None:
    out = await bot.say('/meeting add "Social" "next Friday 8pm" "The Swan"')
    clock.advance(days=2)
    out = await bot.say(f":press {buttons(out)['Confirm']}")
    assert "That time has passed, or the question expired. Not done." in out
    assert await count(bot, Meeting) == 0
