"""One realistic week per seed situation, scripted through the console from Friday
4 December 2026, asserting what each person sees (issue 17): a regional network of
village groups; a constituency party's monthly GC with branches; a TULO's weekly
round of strikes, ballots and pickets; a community hub's schedule; new members."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession

FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


class Week:
    """The console, a clock moved by the day, and everything printed so far, so a
    person can press the button they see now (cards are re-numbered when edited)."""

    def __init__(self, bot: ConsoleSession, clock: FakeClock) -> None:
        self.bot, self.clock, self.seen = bot, clock, ""

    async def say(self, *lines: str) -> str:
        out = await self.bot.say(*lines)
        self.seen += out
        return out

    async def press(self, who: str, chat: str, label: str) -> str:
        """``who`` presses the latest button labelled ``label`` in ``chat``."""
        blocks = [b for b in re.split(r"\n(?=\[)", self.seen) if b.startswith(f"[{chat}]")]
        for block in reversed(blocks):
            found = re.findall(rf"\[(\d+)\] [^\[\n]*?{re.escape(label)}", block)
            if found:
                return await self.say(f":user {who}", f":press {found[-1]}")
        raise AssertionError(f"no button {label!r} in {chat}")

    async def later(self, **delta: float) -> str:
        """Time passes: what fell due runs, and what it sent is printed."""
        self.clock.advance(**delta)
        await self.bot.app.timer.run_due()
        async with asyncio.timeout(10):
            await self.bot.app.senders["console"].idle()
        return await self.say()


def seen_by(out: str, chat: str) -> str:
    """Everything printed to ``chat`` (``@sam`` for sam's private chat) in ``out``."""
    return "\n".join(b for b in re.split(r"\n(?=\[)", out) if b.startswith(f"[{chat}]"))


@pytest.fixture
async def week(sqlite_url: str) -> AsyncIterator[Week]:
    clock = FakeClock(FRIDAY)
    async with ConsoleSession(make_config(sqlite_url), clock=clock) as bot:
        yield Week(bot, clock)


async def test_a_regional_network_of_village_groups(week: Week) -> None:
    for village in ("rugeley", "hednesford", "brereton"):
        await week.say(f":chat {village}", f"/tag region:cannock-chase village:{village}")
    out = await week.say(
        '/meeting add "Village reps\' call" "Thu 19:00" '
        "--link https://meet.jit.si/chase-villages --to region:cannock-chase"
    )
    for village in ("rugeley", "hednesford", "brereton"):
        assert "🕖 Thu 10 Dec 2026, 19:00 GMT" in seen_by(out, village)
    await week.press("maya", "rugeley", "Going")
    out = await week.press("tom", "hednesford", "Maybe")
    assert "(to tom only) Noted: maybe — Village reps' call, Thu 10 Dec." in out
    assert all(
        "✅ 1 going · 🤔 1 maybe" in seen_by(out, v) for v in ("rugeley", "hednesford", "brereton")
    )
    out = await week.say(
        ":user alice",
        "/poll Which day for the joint litter pick? Sat 12th, Sun 13th "
        '--to region:cannock-chase --closes "Wed 18:00"',
    )
    assert "Poll #1 is posted to 3 chats." in out and "is there twice" not in out
    await week.press("maya", "rugeley", "A. Sat 12th")
    await week.press("tom", "hednesford", "A. Sat 12th")
    await week.press("jo", "brereton", "B. Sun 13th")
    out = await week.say(":user alice", "/alert send region:cannock-chase Bring gloves and bags")
    assert all("— alice" in seen_by(out, v) for v in ("rugeley", "hednesford", "brereton"))
    out = await week.later(days=5, hours=8)  # Wednesday 18:00: the poll closes
    for village in ("rugeley", "hednesford", "brereton"):
        assert "Result: A. Sat 12th (2 votes)" in seen_by(out, village)
    out = await week.later(days=1)  # Thursday 18:00: an hour before the call
    assert "Reminder" in seen_by(out, "rugeley")


async def test_a_constituency_partys_monthly_gc_with_branches(week: Week) -> None:
    for branch in ("north-ward", "south-ward"):
        await week.say(f":chat {branch}", "/tag clp:cannock")
    await week.say(":chat clp-officers")
    out = await week.say(
        '/meeting add "General Committee" "first Tuesday of the month 19:30" '
        '"Miners\' Welfare, Cannock" --to clp:cannock'
    )
    assert "Meeting #1 General Committee posted to north-ward, south-ward." in out
    assert "🕖 Tue 5 Jan 2027, 19:30 GMT" in seen_by(out, "north-ward")
    await week.press("priya", "north-ward", "Going")
    await week.press("dev", "south-ward", "Going")
    out = await week.say(":user alice", ":chat clp-officers", "/meeting skip 1 2/2")
    assert "Done: told 2 chats and 0 people going." in out
    out = await week.say('/meeting move 1 5/1 "Wed 6 Jan 19:30"')  # the hall is booked
    assert "Moved: told 2 chats and 2 going." in out
    assert "🕖 Wed 6 Jan 2027, 19:30 GMT" in seen_by(out, "south-ward")
    for person in ("priya", "dev"):
        assert "Moved from Tue 5 Jan." in seen_by(out, f"@{person}")
    out = await week.say(
        ":chat clp-officers", '/meeting edit 1 --where "Cannock Library" --duration 2h'
    )
    assert "📍 Cannock Library" in seen_by(out, "north-ward")
    assert "Changed: place, duration." in seen_by(out, "@priya")
    out = await week.say(":user priya", ":chat north-ward", "/meetings")
    assert "Wed 6 Jan 2027, 19:30 GMT" in out and "✅ 2 going" in out


async def test_a_tulos_weekly_round_of_strikes_ballots_and_pickets(week: Week) -> None:
    await week.say(
        ":chat depot",
        "/tag region:west-midlands union:unison",
        ":chat regional",
        "/tag region:west-midlands",
        ":chat depot",
        '/dispute add UNISON "Sandwell Council" "Refuse workers\' pay" '
        "region:west-midlands union:unison",
        "/ballot add 1 16/11 2/12 1000 --quiet",
    )
    out = await week.say("/ballot result 1 640 520 110")
    assert "A valid mandate for industrial action." in out
    assert "action may start on Mon 14 Dec at the earliest" in out
    out = await week.say("/strike add 1 10/12 11/12")  # too soon: asked, not announced
    assert "Action may start on Mon 14 Dec at the earliest" in out
    out = await week.press("alice", "depot", "Don't")
    assert "Not done: no strike was recorded." in out
    out = await week.say(":chat depot", "/strike add 1 14/12 15/12 --to region:west-midlands")
    assert "Mon 14 Dec – Tue 15 Dec (all day)" in seen_by(out, "regional")
    out = await week.say(
        '/picket add 1 "Lye Depot" 52.4589,-2.1406 14/12 06:00-10:00 --to region:west-midlands'
    )
    assert "Picket line: Lye Depot" in seen_by(out, "regional")
    await week.press("sam", "regional", "I'll be there")
    out = await week.press("ben", "depot", "I'll be there")
    assert "(to ben only) Thank you — you're down for the picket at Lye Depot" in out
    out = await week.say(":user alice", ":chat depot", "/picket correct 1 --hours 7-11")
    assert "07:00–11:00" in seen_by(out, "@sam") and "Correction (hours)" in seen_by(out, "@ben")
    out = await week.say(":user sam", ":chat regional", "/strikes")
    assert "UNISON at Sandwell Council" in out and "Lye Depot" in out
    out = await week.say(":user alice", ":chat depot", "/picket cancel 1 Employer made a new offer")
    assert "Reason: Employer made a new offer" in seen_by(out, "regional")
    assert "Reason: Employer made a new offer" in seen_by(out, "@sam")


async def test_a_community_hubs_schedule(week: Week) -> None:
    await week.say(":chat hub")
    out = await week.say('/meeting add "Food bank" "every Saturday" "Community Hub"')
    assert "No time was given, so I assumed 19:00." in out
    await week.press("alice", "hub", "Fix")
    out = await week.say("10am")  # the time alone, in the next message
    assert "🕖 Sat 5 Dec 2026, 10:00 GMT" in out and "🔁 every Saturday at 10:00" in out
    out = await week.say("/meeting skip 1 26/12")
    assert "Not happening on Sat 26 Dec. The next one is Sat 5 Dec:" in out
    out = await week.say('/meeting add "Warm space" "every weekday 13:00" "Community Hub"')
    out = await week.say("/meeting edit 2 --until 31/3 --duration 15:00")
    assert "until Wed 31 Mar 2027" in out and "until 15:00" in out
    out = await week.say(":user rita", "/meetings")
    assert "#1 Food bank" in out and "#2 Warm space" in out
    out = await week.say("/calendar")
    assert "📎 hub-meetings.ics" in out


async def test_new_members_arriving(week: Week) -> None:
    await week.say(":chat branch", "/tag region:cannock")
    await week.say('/meeting add "Branch meeting" "Thu 18:00" "Union office"')
    out = await week.say(":join Zara")
    assert "[branch] Welcome, Zara!" in out
    assert "• Thu 10 Dec, 18:00 — Branch meeting, Union office (meeting #1)" in out
    out = await week.say(":user Zara", "/start")
    assert "Hello Zara!" in out
    out = await week.say("/help")
    assert "/meeting" in out and "/grant" not in out
    out = await week.say("/whoami")
    assert "Your role here: member" in out
    out = await week.press("Zara", "branch", "Going")
    assert "(to Zara only) Noted: going — Branch meeting, Thu 10 Dec." in out
    out = await week.say(":user Zara", "/meeting cancel 1")
    assert "Only organisers can use /meeting" in out
