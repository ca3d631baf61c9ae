"""Quoting and wording as members meet them (issue 17, problems 7 and 8)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import pytest

from bot.parse import tokenize
from tests.support.alerts_worker import AlertsConsole, alerts_config
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession
from tests.test_alerts_console import branch_with_three_chats, copies
from tests.test_meetings import buttons


@pytest.fixture
async def bot(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleSession]:
    async with ConsoleSession(make_config(sqlite_url), clock=clock) as session:
        yield session


async def test_an_unquoted_poll_splits_at_the_question_mark_and_commas(
    bot: ConsoleSession,
) -> None:
    out = await bot.say("/poll Which stall dates suit you? Sat 12th, Sat 19th")
    assert "is there twice" not in out
    assert "Poll #1: Which stall dates suit you?" in out
    assert "A. Sat 12th" in out and "B. Sat 19th" in out
    out = await bot.say("/poll Strike on Friday? Yes or No")
    assert "A. Yes" in out and "B. No" in out
    out = await bot.say("/poll Stall dates Sat Sun")
    assert "End the question with a question mark" in out


def test_british_single_quotes_group_words_where_they_pair() -> None:
    assert tokenize("'Strike on Friday?' 'Yes, all day' No") == [
        "Strike on Friday?",
        "Yes, all day",
        "No",
    ]
    assert tokenize("‘Sat 12th’ ‘Sun 13th’") == ["Sat 12th", "Sun 13th"]
    assert tokenize('"GC" "Tue 7pm" Miners\' Welfare') == ["GC", "Tue 7pm", "Miners'", "Welfare"]
    assert tokenize("don't \"x 'y' z\"") == ["don't", "x 'y' z"]


async def test_single_quoted_poll(bot: ConsoleSession) -> None:
    out = await bot.say("/poll 'Which stall dates?' 'Sat 12th' 'Sat 19th'")
    assert "A. Sat 12th" in out and "B. Sat 19th" in out


async def test_counts_and_roles_read_as_people_write_them(bot: ConsoleSession) -> None:
    out = await bot.say(":user sam", "/grant alice organiser")
    assert "Only TULOs can use /grant" in out
    out = await bot.say("/help grant")
    assert "Admins grant any role; TULOs grant organiser only." in out
    assert "Needs the TULO role." in out
    out = await bot.say(
        ":user alice", "/tag region:cannock", ":chat hub", "/tag region:cannock", ":chat branch"
    )
    out = await bot.say('/poll "Stall on Sat?" Yes No --to region:cannock')
    assert "posted to 2 chats." in out and "chat(s)" not in out and "on Console" not in out


async def test_alerts_are_signed_and_corrections_marked(sqlite_url: str, clock: FakeClock) -> None:
    async with AlertsConsole(alerts_config(sqlite_url), clock) as bot:
        await branch_with_three_chats(bot)
        out = await bot.say("/alert send region:staffordshire Rally at noon")
        assert "to 1 chat ·" in out and "1 chats" not in out
        assert "— alice" in copies(out)["stafford"]
        out = await bot.say(":chat stafford", "/grant sam organiser", ":user sam")
        out = await bot.say(":user alice", "/alert correct 1 Rally at 1pm")
        copy = copies(out)["stafford"]
        assert "✏ Corrected" in copy and "Rally at 1pm" in copy and "— alice · corrected" in copy


async def test_a_meeting_to_many_chats_is_previewed_first(
    sqlite_url: str, clock: FakeClock
) -> None:
    config = make_config(sqlite_url)
    async with ConsoleSession(config, clock=clock) as bot:
        await bot.say("/tag region:cannock", ":chat hub", "/tag region:cannock", ":chat branch")
        threshold = config.alerts.confirm_above_chats
        assert threshold >= 2  # two chats: posted at once
        out = await bot.say('/meeting add "GC" "Thu 19:30" "Hall" --to region:cannock')
        assert "📅 GC" in out and "Please check" not in out
    alerts = dataclasses.replace(config.alerts, confirm_above_chats=1)
    async with ConsoleSession(dataclasses.replace(config, alerts=alerts), clock=clock) as bot:
        out = await bot.say('/meeting add "GC" "Fri 19:30" "Hall" --to region:cannock')
        assert "It goes to 2 chats matching region:cannock." in out
        assert "📅 GC" not in out
        out = await bot.say(f":press {buttons(out)['Confirm']}")
        assert out.count("📅 GC") == 2


async def test_a_poll_to_many_chats_is_previewed_first(sqlite_url: str, clock: FakeClock) -> None:
    config = make_config(sqlite_url)
    alerts = dataclasses.replace(config.alerts, confirm_above_chats=1)
    async with ConsoleSession(dataclasses.replace(config, alerts=alerts), clock=clock) as bot:
        await bot.say("/tag region:cannock", ":chat hub", "/tag region:cannock", ":chat branch")
        out = await bot.say('/poll "Stall on Sat?" Yes No --to region:cannock')
        assert "Poll #1 is ready. It goes to 2 chats matching region:cannock. Send it?" in out
        assert "[hub]" not in out and out.count("Stall on Sat?") == 1  # the preview only
        assert "[1] Send to 2 chats   [2] Don't send" in out

        out = await bot.say(":press 1")
        assert "[hub]" in out and out.count("Stall on Sat?") == 2
        assert "Poll #1 is posted to 2 chats." in out
        out = await bot.say(f":press {buttons(out)['Yes']}")
        assert "Your vote: A (Yes)" in out

        out = await bot.say('/yesno "Leaflet on Sun?" --to region:cannock')
        (drop,) = re.findall(r"\[(\d+)\] Don't send", out)
        out = await bot.say(f":press {drop}")
        assert "Poll #2: not sent." in out and "Leaflet" not in out
        assert "Leaflet" not in await bot.say("/polls")
