"""Quick polls through the console, as members and organisers use them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.context import UserError
from bot.core import SORRY
from bot.types import ButtonIn, ChatRef, UserRef
from storage.chats import add_tags, register_chat
from storage.db import Database
from storage.polls import Poll, PollBallot
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession

BRANCH = ChatRef("console", "branch", "branch")
DEPOT = ChatRef("console", "depot", "depot")
TELEGRAM_GROUP = ChatRef("telegram", "-100777", "Cannock on Telegram")


@pytest.fixture
async def bot(sqlite_url: str, clock: FakeClock) -> AsyncIterator[ConsoleSession]:
    async with ConsoleSession(make_config(sqlite_url), clock) as session:
        yield session


async def settle(bot: ConsoleSession, clock: FakeClock, seconds: float = 5) -> str:
    """Let the timer's due work run (live tallies, closings) and return what it printed."""
    clock.advance(seconds=seconds)
    await bot.app.timer.run_due()
    async with asyncio.timeout(10):
        await bot.app.senders["console"].idle()
    return await bot.say()


def press(chat: ChatRef, who: str, data: str, platform: str = "console") -> ButtonIn:
    return ButtonIn(chat, UserRef(platform, who.lower(), who), data)


async def ballots(db: Database) -> list[PollBallot]:
    async with db.session() as session:
        return list(await session.scalars(select(PollBallot).order_by(PollBallot.voter)))


async def test_a_poll_is_posted_voted_on_and_shows_a_live_chart(
    bot: ConsoleSession, clock: FakeClock
) -> None:
    out = await bot.say('/poll "Strike on Friday?" "Yes" "No" "Not sure"')
    assert "📊 Poll #1: Strike on Friday?" in out
    assert "[1] A. Yes" in out and "[3] C. Not sure" in out
    assert "One choice; press another to change it." in out
    out = await bot.say(":press 1", ":user sam", ":press 2", ":user kim", ":press 2")
    assert "(to alice only) Your vote: A (Yes)" in out
    assert "(to sam only) Your vote: B (No)" in out
    out = await settle(bot, clock)
    assert "(message #1 edited)" in out
    assert "███░░░░░░░ 1 (33%)" in out and "███████░░░ 2 (67%)" in out
    assert "3 people have voted." in out
    assert await settle(bot, clock) == ""  # nothing changed: no edit


async def test_a_vote_can_be_changed_and_a_person_has_one(
    bot: ConsoleSession, clock: FakeClock
) -> None:
    await bot.say('/yesno "Picket on Monday?"')
    out = await bot.say(":user sam", ":press 1", ":press 2", ":press 2")
    assert out.count("Your vote: B (No)") == 2
    out = await settle(bot, clock)
    assert "░░░░░░░░░░ 0 (0%)" in out and "██████████ 1 (100%)" in out
    assert "1 person has voted." in out


async def test_multi_choice_toggles_options(bot: ConsoleSession, clock: FakeClock) -> None:
    await bot.say('/poll "Which days?" "Mon" "Tue" "Wed" --multi')
    out = await bot.say(":user sam", ":press 1", ":press 3", ":press 1")
    assert "Your votes: A" in out and "Your votes: A, C" in out and "Your votes: C" in out
    out = await bot.say(":press 3")
    assert "You have no options chosen now." in out
    await bot.say(":press 2", ":user kim", ":press 2", ":press 3")
    out = await settle(bot, clock)
    assert "B. Tue\n" in out and "██████████ 2 (100%)" in out
    assert "2 people have voted." in out
    assert "Choose any number; press again to take one back." in out


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ('/poll "Q?" "Only one"', "A poll needs 2 to 10 options; you gave 1."),
        ('/poll "Q?" ' + " ".join(f'"o{n}"' for n in range(11)), "you gave 11"),
        (f'/poll "{"x" * 301}" "A" "B"', "The question is 301 characters long; keep it to 300"),
        (
            f'/poll "Q?" "A" "{"b" * 101}"',
            "Option 2 is 101 characters long; keep each option to 100",
        ),
        ('/poll "Q?" "Yes" "yes "', "“yes” is there twice: each option must be different."),
        ('/poll "Q?" "A" ""', "Option 2 is empty."),
        ('/poll "" "A" "B"', "The question is empty."),
        ('/poll "Q?" "A" "B" --closes yesterday', "which has already passed"),
        ('/poll "Q?" "A" "B" --closes soonish', "I couldn't read “soonish” as a date and time"),
        ('/poll "Q?" "A" "B" --closes "every friday"', "A poll closes once"),
        ('/poll "Q?" "A" "B" --quorum 0', "The quorum should be a whole number from 1 to 100,000"),
        ('/poll "Q?" "A" "B" --quorum lots', "quorum should be a whole number"),
        ('/yesno "Q?" --multi', "/yesno has no option --multi"),
        ("/poll", "/poll needs question"),
        ("/poll close", "/poll close needs id"),
        ("/poll close twelve", "The poll number should be a whole number from 1"),
        ("/poll results 99", "There is no poll #99."),
    ],
)
async def test_bad_polls_are_refused_with_a_reason(
    bot: ConsoleSession, command: str, answer: str
) -> None:
    out = await bot.say(command)
    assert answer in out, out
    assert "(only you)" in out and "📊" not in out
    async with bot.app.db.session() as session:
        assert await session.scalar(select(Poll.id)) is None


async def test_a_closing_time_is_shown_and_kept(bot: ConsoleSession, clock: FakeClock) -> None:
    out = await bot.say('/poll "Q?" "A" "B" --closes "12/3 19:00" --quorum 5')
    assert "quorum 5 · closes Thu 12 Mar 2026 19:00." in out
    out = await bot.say('/poll "Q?" "A" "B" --closes friday')
    assert "(only you) Poll #2 is posted." in out
    assert "No time was given, so I assumed 19:00." in out
    assert set(bot.app.timer.pending()) >= {"poll:1:close", "poll:2:close"}


async def test_the_poll_closes_on_time_with_the_result_everywhere(
    bot: ConsoleSession, clock: FakeClock
) -> None:
    await bot.say("/tag region:cannock", ":chat depot", "/tag region:cannock", ":chat branch")
    await bot.say('/poll "Strike?" "Yes" "No" --closes 2h --quorum 3 --to region:cannock')
    await bot.say(":user sam", ":press 1", ":user kim", ":press 4")  # [4] is depot's "No"
    out = await settle(bot, clock)
    assert "[6] B. No" in out  # the live copies, with their buttons
    out = await settle(bot, clock, seconds=2 * 3600)
    for chat in ("branch", "depot"):
        assert f"[{chat}] 🏁 Poll #1 has closed: Strike?" in out
    assert out.count("Tie: A. Yes and B. No (1 vote each)") == 4  # 2 results + 2 edited copies
    assert "Quorum of 3: not met (2 voted)." in out
    assert "(closed)" in out and "[7]" not in out  # the copies lost their buttons
    out = await bot.say(":press 1")
    assert "This poll has closed." in out
    out = await bot.say("/poll close 1")
    assert "Poll #1 has already closed. See /poll results 1." in out


async def test_one_poll_across_chats_and_platforms_has_one_tally(
    bot: ConsoleSession, clock: FakeClock
) -> None:
    async with bot.app.db.session() as session:
        telegram = await register_chat(session, TELEGRAM_GROUP, clock.now(), approve_new=True)
        await add_tags(session, telegram, ["region:cannock"])
    await bot.say("/tag region:cannock", ":chat depot", "/tag region:cannock", ":chat branch")
    out = await bot.say('/poll "Strike?" "Yes" "No" --to region:cannock')
    assert "Poll #1 is posted to 3 chats (2 on Console, 1 on Telegram)." in out
    core = bot.app.core
    # sam is in both console chats: presses in both count once, the last one standing.
    assert (await core.handle(press(BRANCH, "Sam", "vote:1:0"))).notice == "Your vote: A (Yes)"
    assert (await core.handle(press(DEPOT, "Sam", "vote:1:1"))).notice == "Your vote: B (No)"
    answer = await core.handle(press(TELEGRAM_GROUP, "Tess", "vote:1:1", platform="telegram"))
    assert answer.notice == "Your vote: B (No)"
    out = await settle(bot, clock)
    assert out.count("██████████ 2 (100%)") == 2  # both console copies show the combined count
    assert len(await ballots(bot.app.db)) == 2


async def test_presses_that_are_not_votes_on_this_poll_are_turned_away(
    bot: ConsoleSession,
) -> None:
    await bot.say('/yesno "Q?"')
    core = bot.app.core
    for data in ("vote:99:0", "vote:1:7", "vote:1", "vote:x:1", "vote:1:0:0"):
        answer = await core.handle(press(BRANCH, "Sam", data))
        assert "That button is from an old message" in answer.notice
    # a real button, but pressed from a chat the poll was never posted to
    answer = await core.handle(press(DEPOT, "Sam", "vote:1:0"))
    assert "That button is from an old message" in answer.notice
    assert await ballots(bot.app.db) == []


async def test_only_organisers_may_post_beyond_this_chat(bot: ConsoleSession) -> None:
    await bot.say("/tag region:cannock", ":chat depot", "/tag region:cannock", ":chat branch")
    out = await bot.say(":user sam", '/poll "Q?" "A" "B" --to region:cannock')
    assert "Only organisers can post polls to chats" in out
    await bot.say(":user alice", "/grant sam organiser")
    out = await bot.say(":user sam", '/poll "Q?" "A" "B" --to region:cannock')
    assert "matches 1 chat you don't organise" in out
    out = await bot.say('/poll "Q?" "A" "B"')  # anyone may poll the chat they are in
    assert "📊 Poll #1: Q?" in out


async def test_who_may_close_a_poll(bot: ConsoleSession) -> None:
    await bot.say(":user sam", '/yesno "Sam asks?"', ":user kim", '/yesno "Kim asks?"')
    out = await bot.say("/poll close 1")
    assert "Only the person who started poll #1 or an organiser can close it." in out
    out = await bot.say("/poll close 2")
    assert "🏁 Poll #2 has closed" in out
    await bot.say(":user dana", "/start", ":user alice", "/grant dana organiser")
    out = await bot.say(":user dana", "/poll close 1")
    assert "🏁 Poll #1 has closed" in out


async def test_hidden_results_show_only_the_turnout_until_close(
    bot: ConsoleSession, clock: FakeClock
) -> None:
    await bot.say('/poll "Q?" "Left" "Right" --hide-results')
    await bot.say(":user sam", ":press 1", ":user kim", ":press 1")
    out = await settle(bot, clock)
    assert "Results are hidden until the poll closes." in out
    assert "2 people have voted." in out and "█" not in out
    out = await bot.say("/poll results 1")
    assert "Results are hidden" in out and "Who voted" not in out and "sam" not in out
    out = await bot.say(":user alice", "/poll close 1")
    assert "██████████ 2 (100%)" in out and "Result: A. Left (2 votes)" in out


async def test_results_name_voters_only_to_organisers_and_privately(bot: ConsoleSession) -> None:
    await bot.say('/yesno "Open?"', '/yesno "Secret?" --anonymous')
    await bot.say(":user sam", ":press 1", ":press 3", ":user kim", ":press 2", ":press 4")
    out = await bot.say("/poll results 1")  # kim, a member: the count, no names
    assert "2 people have voted." in out and "Organisers can see who voted." in out
    assert "Who voted" not in out and "sam" not in out
    out = await bot.say(":user alice", "/poll results 1")
    here, _, private = out.partition("[@alice]")
    assert "Who voted" not in here and "sam" not in here
    assert "Who voted" in private and "A. Yes: sam" in private and "B. No: kim" in private
    out = await bot.say("/poll results 2")
    assert "1 (50%)" in out and "Who voted" not in out
    assert "sam" not in out and "kim" not in out
    assert "Votes are anonymous: nobody, admins included, can see who voted." in out


async def test_public_poll_names_each_chat_only_its_own_voters(bot: ConsoleSession) -> None:
    await bot.say("/tag region:cannock", ":chat depot", "/tag region:cannock", ":chat branch")
    out = await bot.say('/yesno "Picket?" --to region:cannock --public --anonymous')
    assert "can't be both --anonymous and --public" in out
    out = await bot.say('/yesno "Picket?" --to region:cannock --public')
    assert "Everyone can see who voted." in out
    await bot.say(":user sam", ":press 1", ":user kim", ":chat depot", ":press 4")
    out = await bot.say("/poll results 1")  # kim, a member, in the depot
    assert "Who voted" in out and "B. No: kim" in out and "sam" not in out
    out = await bot.say(":chat branch", "/poll results 1")
    assert "A. Yes: sam" in out and "kim" not in out


async def test_results_and_the_list_are_for_the_chats_a_poll_went_to(bot: ConsoleSession) -> None:
    await bot.say('/yesno "Here?" --closes 3d', '/yesno "Also here?"')
    out = await bot.say(":user sam", "/polls")
    assert "#1 Here? — 0 people have voted · closes Thu 5 Mar 2026 09:00" in out
    assert "#2 Also here?" in out
    out = await bot.say(":chat depot", "/polls", "/poll results 1")
    assert "No polls are open here." in out
    assert "Poll #1 wasn't posted in this chat." in out


async def test_help_explains_the_plain_and_the_sub_commands(bot: ConsoleSession) -> None:
    out = await bot.say("/help poll")
    assert "Usage: /poll new|close|results" in out
    assert "/poll close <id> — Close a poll now" in out
    out = await bot.say("/poll new")
    assert "/poll new needs question" in out
    out = await bot.say('/poll new "Q?" "A" "B"')
    assert "📊 Poll #1: Q?" in out


async def test_closings_survive_a_restart(sqlite_url: str, clock: FakeClock) -> None:
    config = make_config(sqlite_url)
    async with ConsoleSession(config, clock) as bot:
        await bot.say('/yesno "Q?" --closes 2h', '/yesno "Later?" --closes 3d')
        await bot.say(":user sam", ":press 1")
    clock.advance(hours=3)
    async with ConsoleSession(config, clock) as bot:
        out = await settle(bot, clock, seconds=0)
        assert "🏁 Poll #1 has closed: Q?" in out and "Result: A. Yes (1 vote)" in out
        assert "Poll #2" not in out
        assert "poll:2:close" in bot.app.timer.pending()
        assert bot.app.timer.pending()["poll:2:close"] == datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


async def test_a_quick_button_that_refuses_or_fails_answers_politely(bot: ConsoleSession) -> None:
    async def refuse(services: object, event: ButtonIn) -> str:
        raise UserError("Not now.")

    async def fail(services: object, event: ButtonIn) -> str:
        raise RuntimeError("boom")

    bot.app.registry.quick_button("refuse", refuse)
    bot.app.registry.quick_button("fail", fail)
    assert (await bot.app.core.handle(press(BRANCH, "Sam", "refuse:1"))).notice == "Not now."
    assert (await bot.app.core.handle(press(BRANCH, "Sam", "fail:1"))).notice == SORRY
