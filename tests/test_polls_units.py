"""The small pieces of polls: counting, closing times, wording, and the registry
and parser changes that let /poll have both a plain form and subcommands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.context import UserError
from bot.parse import ParseError, parse
from bot.polls.deadline import parse_closing
from bot.polls.render import buttons, notice
from bot.polls.tally import Tally, chosen
from bot.registry import Command, Param, Registry
from storage.polls import Poll

LONDON = ZoneInfo("Europe/London")
FRIDAY_9AM = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)


def poll(options: int = 3, *, multi: bool = False) -> Poll:
    return Poll(id=12, question="Q?", options=[f"Option {n}" for n in range(options)], multi=multi)


# --- tally ---------------------------------------------------------------------------


def test_counts_turnout_winners_and_quorum() -> None:
    tally = Tally.of(3, {0b001: 4, 0b011: 2, 0b100: 6, 0: 9})  # empty ballots don't count
    assert tally.counts == (6, 2, 6)
    assert tally.turnout == 12
    assert tally.winners == [0, 2]  # a tie
    assert tally.share(1) == pytest.approx(2 / 12)
    assert tally.quorum_met(12) and not tally.quorum_met(13) and tally.quorum_met(None)
    assert Tally.empty(2).winners == [] and Tally.empty(2).share(0) == 0.0


@given(st.dictionaries(st.integers(0, 2**10 - 1), st.integers(1, 50)))
def test_each_option_counts_the_ballots_that_chose_it(groups: dict[int, int]) -> None:
    tally = Tally.of(10, groups)
    for option in range(10):
        assert tally.counts[option] == sum(n for c, n in groups.items() if option in chosen(c, 10))
    assert tally.turnout == sum(n for c, n in groups.items() if c)
    assert all(count <= tally.turnout for count in tally.counts)


def test_what_copies_show_changes_only_with_the_visible_tally() -> None:
    tally = Tally((1, 2), 3)
    assert tally.summary(hidden=False) == "3:1,2"
    assert tally.summary(hidden=True) == "3"


# --- closing time --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", FRIDAY_9AM + timedelta(minutes=30)),
        ("2h", FRIDAY_9AM + timedelta(hours=2)),
        ("3d", FRIDAY_9AM + timedelta(days=3)),
        ("1h30m", FRIDAY_9AM + timedelta(minutes=90)),
        ("2 days", FRIDAY_9AM + timedelta(days=2)),
        ("400d", FRIDAY_9AM + timedelta(days=400)),  # any length
        ("Friday 18:00", datetime(2026, 3, 6, 18, 0, tzinfo=UTC)),  # today, not next week
        ("12/3 19:00", datetime(2026, 3, 12, 19, 0, tzinfo=UTC)),  # day first
        ("tomorrow 9am", datetime(2026, 3, 7, 9, 0, tzinfo=UTC)),
        ("1/4 12:00", datetime(2026, 4, 1, 11, 0, tzinfo=UTC)),  # British Summer Time
    ],
)
def test_closing_times_read_as_people_mean_them(text: str, expected: datetime) -> None:
    assert parse_closing(text, FRIDAY_9AM, LONDON).at == expected


@pytest.mark.parametrize(
    ("text", "refusal"),
    [
        ("0m", "is no time at all"),
        ("99999999999d", "Each number in a duration should be a whole number from 0 to"),
        ("999999w", "further ahead than I can count"),
        ("yesterday 10:00", "which has already passed"),
        ("8:00 today", "which has already passed"),
        ("whenever", "I couldn't read “whenever”"),
        ("every Friday 18:00", "A poll closes once, not every Friday"),
    ],
)
def test_unusable_closing_times_are_refused(text: str, refusal: str) -> None:
    with pytest.raises(UserError, match=refusal):
        parse_closing(text, FRIDAY_9AM, LONDON)


def test_assumptions_about_a_closing_time_are_noted() -> None:
    closing = parse_closing("Saturday", FRIDAY_9AM, LONDON)
    assert closing.at == datetime(2026, 3, 7, 19, 0, tzinfo=UTC)
    assert closing.notes == ("No time was given, so I assumed 19:00.",)


# --- wording -------------------------------------------------------------------------


def test_a_press_is_answered_with_the_ballot() -> None:
    assert notice(poll(), 0b010) == "Your vote: B (Option 1)"
    assert notice(poll(multi=True), 0b101) == "Your votes: A, C"
    assert notice(poll(multi=True), 0).startswith("You have no options chosen now.")
    long = Poll(id=1, question="Q?", options=["x" * 100, "y"], multi=False)
    assert notice(long, 1) == f"Your vote: A ({'x' * 59}…)"


def test_buttons_fit_both_platforms() -> None:
    few, many = buttons(poll(5)), buttons(poll(10))
    assert [len(row) for row in few] == [1] * 5
    assert [len(row) for row in many] == [2] * 5  # Discord shows at most five rows
    assert many[4][1].data == "vote:12:9" and many[4][1].label == "J. Option 9"
    huge = Poll(id=10**15, question="Q?", options=["z" * 100] * 10, multi=False)
    assert all(len(b.data.encode()) <= 64 and len(b.label) <= 40 for r in buttons(huge) for b in r)


# --- a command with a plain form and subcommands -------------------------------------


async def _nothing(ctx: object) -> list[object]:
    return []


NEW = Command("new", "start", params=(Param("question", "q"), Param("rest", "r", repeat=True)))
GROUP = Command(
    "poll",
    "polls",
    subcommands=(NEW, Command("close", "close", params=(Param("id", "n"),))),
    default="new",
)


def test_the_default_subcommand_takes_words_that_name_no_subcommand() -> None:
    parsed = parse(GROUP, '"Q?" A B')
    assert parsed.command is NEW and parsed.args == {"question": "Q?", "rest": ["A", "B"]}
    assert parse(GROUP, 'new "Q?" A').command is NEW
    assert parse(GROUP, "close 3").args == {"id": "3"}
    with pytest.raises(ParseError, match=r"/poll needs question.*Usage: /poll <question>"):
        parse(GROUP, "")


def test_a_default_must_be_a_subcommand() -> None:
    with pytest.raises(ValueError, match="not a subcommand"):
        Command("poll", "polls", subcommands=(NEW,), default="open")


def test_quick_buttons_share_the_actions_namespace() -> None:
    registry = Registry()

    async def quick(services: object, press: object) -> str:
        return ""

    registry.quick_button("vote", quick)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="duplicate"):
        registry.button("vote", _nothing)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="duplicate"):
        registry.quick_button("vote", quick)  # type: ignore[arg-type]
