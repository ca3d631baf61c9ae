"""Numbers out of any range and text with nothing visible get a specific, friendly
refusal — never a traceback, never a row written."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.context import UserError
from bot.tags import MAX_TAGS
from bot.values import MAX_ID, button_id, fit, visible, whole_number
from storage.db import Database
from storage.models import Base
from tests.support.config import make_config
from tests.support.console import ConsoleSession

HUGE = "99999999999999999999999"
ZWSP = "\u200b"
WHOLE = "should be a whole number"


@pytest.fixture
async def bot(database_url: str, database: Database) -> AsyncIterator[ConsoleSession]:
    """A console on an empty database (``database`` empties PostgreSQL's)."""
    async with ConsoleSession(make_config(database_url)) as session:
        await session.say("/tag region:west-midlands")
        yield session


async def row_counts(bot: ConsoleSession) -> dict[str, int]:
    async with bot.app.db.session() as session:
        return {
            table.name: await session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
            if table.name != "outbox"  # the refusal itself is queued there
        }


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            f"/poll results {HUGE}",
            f"The poll number {WHOLE} from 1 to 2,147,483,647",
        ),
        ("/poll results ²", "The poll number should be a whole number from 1"),
        ("/poll close -3", "The poll number should be a whole number from 1"),
        ("/poll results 1_000", "not “1_000”"),
        (
            f'/poll "Q?" "A" "B" --quorum {HUGE}',
            f"The quorum {WHOLE} from 1 to 100,000",
        ),
        (f"/ballot result {HUGE} 1 1 1", "The id should be a whole number from 1 to 2,147,483,647"),
        (
            "/ballot result 1 1 99999999 1",
            f"The yes votes {WHOLE} from 0 to 10,000,000",
        ),
        ("/ballot add 1 1/3 20/3 ٣", "The number entitled to vote should be a whole number"),
        (f"/meeting skip {HUGE} 1/1", "The id should be a whole number"),
        (f"/strike cancel {'9' * 5000}", "The id should be a whole number"),
        (f"/meetingset reminders {'9' * 5000}d", "A reminder's number should be a whole number"),
        (f'/meeting add T "every {"9" * 5000} weeks on Monday 9:00" Hall', "number of weeks"),
        (f'/poll "Q?" A B --closes {"9" * 5000}h', "Each number in a duration should be"),
        (f'/poll "{ZWSP}" "A" "B"', "The question is empty"),
        ('/poll "Q?" "A" "\x00"', "Option 2 is empty."),
        (f'/poll "Q?" "Yes" "Ye{ZWSP}s"', "“Yes” is there twice"),
        ('/poll "Q?" "Café" "Cafe\u0301"', "“Café” is there twice"),  # NFC
        (f'/meeting add "{ZWSP}\u2060" "tomorrow 7pm" Hall', "Give the meeting a title"),
        (
            f"/alert send region:west-midlands {ZWSP} \x07",
            "The alert has nothing in it",
        ),
        ('/dispute add "\u200e" Council Pay region:west-midlands', "The union has nothing in it"),
        (f"/tag region:{ZWSP}", "“region:” is not a tag"),
        ('/alert send "' + " or ".join(["region:a"] * 60) + '" Hi', "keep it to 500"),
        ('/alert send "' + "not " * 30 + 'region:a" Hi', "nests 30 deep"),
    ],
)
async def test_hostile_input_is_refused_kindly(
    bot: ConsoleSession, line: str, expected: str
) -> None:
    before = await row_counts(bot)
    out = await bot.say(line)
    assert expected in out, out
    assert "went wrong" not in out
    assert await row_counts(bot) == before


async def test_invisible_characters_in_a_command_name_are_ignored(bot: ConsoleSession) -> None:
    assert "You are alice" in await bot.say(f"/who{ZWSP}ami\x00")


async def test_a_chat_has_at_most_so_many_tags(bot: ConsoleSession) -> None:
    tags = " ".join(f"topic:t{n}" for n in range(MAX_TAGS - 1))
    assert "Tagged this chat" in await bot.say(f"/tag {tags}")
    out = await bot.say("/tag topic:one-more topic:two-more")
    assert f"A chat can have at most {MAX_TAGS} tags; this one has {MAX_TAGS}" in out
    assert "Tagged this chat" in await bot.say("/untag topic:t0", "/tag topic:one-more")


def test_whole_numbers() -> None:
    assert whole_number(" #12 ", "The id") == 12
    assert whole_number("0", "The count", low=0) == 0
    assert whole_number(str(MAX_ID), "The id") == MAX_ID
    for bad in ("", "²", "١٢", "1_0", "1e3", "0x10", "12.0", str(MAX_ID + 1), "9" * 5000):
        with pytest.raises(UserError, match="should be a whole number from 1"):
            whole_number(bad, "The id")
    assert [button_id(text) for text in ("7", "0", "²", "-1", str(MAX_ID + 1))] == [7] + [None] * 4
    assert button_id("0", low=0) == 0


def test_visible_text() -> None:
    assert visible(f" a{ZWSP}b\x00\tc\u00a0 d\n") == "ab c d"
    assert visible("Cafe\u0301") == "Café"
    assert visible(f"{ZWSP}\u2060\u200e\x1b") == ""
    assert fit(" Hall ", 10, "The place") == "Hall"
    with pytest.raises(UserError, match="The place is 11 characters long; keep it to 10"):
        fit("x" * 11, 10, "The place")
