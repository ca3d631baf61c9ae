"""Poll storage on SQLite and PostgreSQL: races, anonymity, erasure, the migration."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select

from bot.polls.tally import load_tally
from bot.types import ButtonIn, ChatRef, UserRef
from storage.db import Database
from storage.models import Base, ChatMember, OutboxRow, Person
from storage.polls import Poll, PollBallot
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession

BRANCH = ChatRef("console", "branch", "branch")
DEPOT = ChatRef("console", "depot", "depot")
POLL_TABLES = {"polls", "copies", "poll_ballots"}


@pytest.fixture
async def bot(database: Database, clock: FakeClock) -> AsyncIterator[ConsoleSession]:
    """A console bot, once on SQLite and once on PostgreSQL."""
    async with ConsoleSession(make_config(database.url), clock) as session:
        yield session


async def two_chat_poll(bot: ConsoleSession, *options: str) -> None:
    await bot.say("/tag region:cannock", ":chat depot", "/tag region:cannock", ":chat branch")
    out = await bot.say(f'/poll "Strike?" "Yes" "No" --to region:cannock {" ".join(options)}')
    assert "Poll #1 is posted to 2 chats" in out


def press(chat: ChatRef, who: str, option: int) -> ButtonIn:
    return ButtonIn(chat, UserRef("console", who, who.title()), f"vote:1:{option}")


async def rows(db: Database) -> list[PollBallot]:
    async with db.session() as session:
        return list(await session.scalars(select(PollBallot).order_by(PollBallot.voter)))


async def counts(db: Database) -> tuple[tuple[int, ...], int]:
    async with db.session() as session:
        poll = await session.get(Poll, 1)
        assert poll is not None
        tally = await load_tally(session, poll)
    return tally.counts, tally.turnout


async def test_one_person_pressing_everywhere_at_once_has_one_vote(bot: ConsoleSession) -> None:
    await two_chat_poll(bot)
    presses = [press(chat, "sam", n % 2) for n in range(20) for chat in (BRANCH, DEPOT)]
    answers = await asyncio.gather(*(bot.app.core.handle(p) for p in presses))
    assert {a.notice for a in answers} <= {"Your vote: A (Yes)", "Your vote: B (No)"}
    (ballot,) = await rows(bot.app.db)
    assert ballot.choices in (1, 2)
    assert (await counts(bot.app.db))[1] == 1


async def test_many_people_at_once_are_all_counted(bot: ConsoleSession) -> None:
    await two_chat_poll(bot)
    presses = [press((BRANCH, DEPOT)[n % 2], f"p{n}", n % 3 % 2) for n in range(300)]
    answers = await asyncio.gather(*(bot.app.core.handle(p) for p in presses))
    assert all(a.notice.startswith("Your vote") for a in answers)
    expected = Counter(n % 3 % 2 for n in range(300))
    assert await counts(bot.app.db) == ((expected[0], expected[1]), 300)
    async with bot.app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 301


async def test_two_processes_toggling_the_same_ballots_lose_no_press(
    bot: ConsoleSession, database: Database, clock: FakeClock
) -> None:
    await two_chat_poll(bot, "--multi")
    async with ConsoleSession(make_config(database.url), clock) as other:
        cores = [bot.app.core, other.app.core]
        # Each of 40 people toggles option A 3 times and option B twice, spread over
        # both processes and chats: every ballot must end with exactly A.
        presses = [
            (cores[n % 2], press((BRANCH, DEPOT)[n % 2], f"p{person}", option))
            for person in range(40)
            for n, option in enumerate((0, 1, 0, 1, 0))
        ]
        answers = await asyncio.gather(*(core.handle(p) for core, p in presses))
    assert all(a.notice.startswith(("Your votes", "You have no options")) for a in answers)
    assert {ballot.choices for ballot in await rows(bot.app.db)} == {1}
    assert await counts(bot.app.db) == ((40, 0), 40)


async def test_a_press_racing_the_close_is_counted_or_refused(bot: ConsoleSession) -> None:
    await two_chat_poll(bot)

    async def later(delay: float, event: ButtonIn) -> str:
        await asyncio.sleep(delay)
        return (await bot.app.core.handle(event)).notice

    async def close() -> None:
        await asyncio.sleep(0.01)
        await bot.console.feed("/poll close 1")

    presses = [later(n / 10_000, press(BRANCH, f"p{n}", 0)) for n in range(200)]
    *answers, _ = await asyncio.gather(*presses, close())
    recorded = sum(answer.startswith("Your vote") for answer in answers)
    assert recorded + answers.count("This poll has closed.") == 200
    async with asyncio.timeout(10):
        await bot.app.senders["console"].idle()
    assert f"{recorded} people have voted." in await bot.say()
    assert (await counts(bot.app.db))[1] == recorded


async def test_anonymous_ballots_keep_no_link_to_a_person(
    bot: ConsoleSession, clock: FakeClock
) -> None:
    await two_chat_poll(bot, "--anonymous")
    for who, chat, option in (("sam", BRANCH, 0), ("kim", DEPOT, 1), ("ann", BRANCH, 1)):
        await bot.app.core.handle(press(chat, who, option))
    await bot.app.core.handle(press(DEPOT, "sam", 1))  # a changed vote still finds its ballot
    ballots = await rows(bot.app.db)
    assert len(ballots) == 3 and {b.person_id for b in ballots} == {None}
    async with bot.app.db.session() as session:
        people = set(await session.scalars(select(Person.platform_user_id)))
        members = await session.scalar(select(func.count()).select_from(ChatMember))
    assert people == {"alice"} and members == 2  # voting left no trace of the voters
    assert all(len(b.voter) == 64 for b in ballots)  # keyed hashes

    out = await bot.say("/poll close 1")
    assert "B. No" in out and "3 people have voted." in out
    async with bot.app.db.session() as session:
        poll = await session.get(Poll, 1)
        assert poll is not None and poll.secret is None
    ballots = await rows(bot.app.db)
    assert sorted(b.choices for b in ballots) == [2, 2, 2]
    assert [b.voter for b in ballots] == ["closed-0", "closed-1", "closed-2"]
    assert await counts(bot.app.db) == ((0, 3), 3)
    async with bot.app.db.session() as session:
        payloads = [str(p) for p in await session.scalars(select(OutboxRow.payload))]
    assert not any(name in payload for payload in payloads for name in ("Sam", "Kim", "Ann"))


async def test_forgetme_erases_a_persons_votes(bot: ConsoleSession) -> None:
    await bot.say('/yesno "Ordinary?"', '/yesno "Secret?" --anonymous')
    await bot.say(":user sam", ":press 1", ":press 3", ":user kim", ":press 2")
    assert len(await rows(bot.app.db)) == 3
    out = await bot.say(":user sam", "/forgetme", ":press 5")
    assert "I have forgotten you" in out
    remaining = await rows(bot.app.db)
    # sam's ordinary vote is gone; the anonymous one cannot be told apart, so it stays
    assert sorted((b.poll_id, b.person_id is None) for b in remaining) == [(1, False), (2, True)]
    out = await bot.say(":user alice", "/poll results 1")
    assert "1 person has voted." in out and "sam" not in out


def _diffs(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def test_the_migration_builds_what_the_models_say(database: Database) -> None:
    async with database.engine.connect() as connection:
        diffs = await connection.run_sync(_diffs)
    ours = [d for d in diffs if any(table in repr(d) for table in POLL_TABLES)]
    assert ours == []
