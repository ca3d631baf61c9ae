"""Newcomers (issue 18, parts 1 and 2): a Labour branch found people had joined and
were never contacted. A welcome per chat that lists what is really coming up there,
and an opt-in follow-up list the chat's organisers claim and tick off — through the
console, on Friday 4 December 2026, with a clock the test moves."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.commands import build_registry
from bot.config import Config, RetentionSettings
from bot.retention import cutoffs
from bot.types import ButtonIn, ChatKind, ChatRef, CommandIn, MemberJoined, UserRef
from storage.chats import find_person, register_chat
from storage.db import Database
from storage.models import Chat, Person
from storage.newcomers import (
    Newcomer,
    NewcomerSettings,
    add_newcomer,
    claim_newcomer,
    forget_newcomer,
    waiting,
)
from storage.personal import personal_data
from storage.retention import purge
from tests.support.alerts_worker import AlertsConsole
from tests.support.clock import FakeClock
from tests.support.config import make_config

FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
COMING_UP = (
    "/tag region:a",
    '/dispute add UNISON Acme "Pay" region:a',
    '/picket add 1 Gate "B69 4JE" 9/12 06:00-10:00',
    '/meeting add "AGM" "12/12 19:00" "Hall"',
    '/poll "Which stall?" "Sat" "Sun"',
)


class NewcomersConsole(AlertsConsole):
    """The console with every capability and a clock the test moves."""

    def __init__(self, config: Config, clock: FakeClock) -> None:
        super().__init__(config, clock)
        self.app = App(config, [self.console], clock=clock, registry=build_registry())

    async def rows(self) -> int:
        return int(await self.scalar(select(func.count()).select_from(Newcomer)))


def said(out: str, chat: str) -> str:
    """What the bot printed in ``chat`` (``@sam``: sam's private chat)."""
    blocks = re.split(r"\n(?=\[)", out.strip())
    return "\n".join(b for b in blocks if b.startswith(f"[{chat}]"))


def button(out: str, chat: str, label: str) -> str:
    found = re.search(rf"\[(\d+)\] {re.escape(label)}", said(out, chat))
    assert found, out
    return found[1]


@pytest.fixture
async def bot(sqlite_url: str) -> AsyncIterator[NewcomersConsole]:
    async with NewcomersConsole(make_config(sqlite_url), FakeClock(FRIDAY)) as session:
        await session.say("/start", ":user sam", "/start", ":user kim", "/start")
        await session.say(":user alice", "/grant sam organiser", "/grant kim organiser")
        yield session


async def test_a_newcomer_is_welcomed_claimed_and_contacted(bot: NewcomersConsole) -> None:
    await bot.say(*COMING_UP)
    out = await bot.say(":user sam", '/welcome set "Hello {name}, welcome to {chat}!"')
    assert "Welcome set" in out and "Hello sam, welcome to branch!" in out
    out = await bot.say("/newcomers on")
    assert "Newcomer follow-up on." in out and "after 3 days" in out
    await bot.say(":user dana", ":chat @", "/start")  # dana has a private chat with the bot

    out = await bot.say(":chat branch", ":join dana")
    public = said(out, "branch")
    assert "Hello dana, welcome to branch!" in public
    for coming in ("Gate, B69 4JE", "AGM, Hall", "Which stall? (poll #1)"):
        assert coming in public, public
    assert "More: /strikes · /meetings · /polls" in public
    assert "I keep only your name and when you joined, for 30 days at most" in public
    assert "AGM, Hall" in said(out, "@dana") and "I'd like to help" in said(out, "@dana")
    assert "dana joined branch" in said(out, "@sam") and "dana joined branch" in said(out, "@kim")
    assert await bot.rows() == 1

    # dana offers to help: the organisers are told privately, once.
    helping = button(out, "@dana", "👋 I'd like to help")
    sam_claims, kim_claims = (
        button(out, "@sam", "I'll contact them"),
        button(out, "@kim", "I'll contact them"),
    )
    out = await bot.say(":press " + helping)
    assert "The organisers of branch will be in touch" in out
    assert "dana joined branch and would like to help" in said(out, "@sam")
    out = await bot.say(":press " + helping)
    assert "I told them when you first pressed" in out and not said(out, "@sam")

    # The first press claims; the second organiser is told who did.
    out = await bot.say(":user sam", ":press " + sam_claims)
    assert "you're contacting dana" in out
    done = button(out, "@sam", "Contacted ✔")
    out = await bot.say(":user kim", ":press " + kim_claims)
    assert "sam is contacting dana already" in out
    out = await bot.say(":chat branch", "/newcomers")
    assert "dana — joined today; sam is contacting them" in out
    out = await bot.say(":press " + done)
    assert "only they can mark it done" in out and await bot.rows() == 1

    out = await bot.say(":user sam", ":press " + done)
    assert "Marked contacted" in out and await bot.rows() == 0
    out = await bot.say(":chat branch", "/newcomers")
    assert "Nobody here is waiting to be contacted." in out


async def test_the_welcome_never_points_at_an_empty_list(bot: NewcomersConsole) -> None:
    """A food-bank hub has no strikes: no /strikes for it, nor anything else empty."""
    out = await bot.say(":chat foodbank", "/start", ":join eve")
    (welcome,) = [b for b in said(out, "foodbank").split("\n[") if "Welcome, eve" in b]
    assert "Welcome, eve! Glad to have you in foodbank." in welcome
    assert "Nothing is planned here just yet" in welcome and "/" not in welcome
    await bot.say('/meeting add "Sorting" "7/12 10:00" "Hub"')
    out = await bot.say(":join fay")
    assert "Sorting, Hub" in out and "More: /meetings" in out and "/strikes" not in out
    out = await bot.say("/welcome off", ":join gus")
    assert "No welcome here any more." in out and "gus" not in out.replace("(gus joined", "")
    out = await bot.say("/welcome preview")
    assert "The welcome is off here." in out
    out = await bot.say('/welcome set "\u200b\u200b"')
    assert "nothing in it that can be seen" in out
    out = await bot.say(f"/welcome set {'x' * 601}")
    assert "keep it to 600" in out


async def test_an_unclaimed_newcomer_is_raised_again_after_three_days(
    bot: NewcomersConsole,
) -> None:
    await bot.say(":user sam", "/newcomers on", ":join fay")
    assert "nobody has said" not in await bot.tick(days=2, hours=23)
    out = await bot.tick(hours=1)
    assert "fay joined branch 3 days ago and nobody has said they'll contact them" in said(
        out, "@sam"
    )
    assert "nobody has said" in said(out, "@kim")
    assert "nobody has said" not in await bot.tick(days=1)  # once
    out = await bot.say(":chat branch", "/newcomers")
    assert "fay — waiting 4 days; nobody has claimed them" in out


async def test_tulos_see_the_overdue_beside_the_weekly_digest(bot: NewcomersConsole) -> None:
    await bot.say(":user sam", "/newcomers on", "/digest on tuesday 12:00", ":join fay")
    await bot.tick(days=2)
    await bot.say(":join gus")  # on Sunday: not overdue at the digest
    out = await bot.tick(days=2, hours=2)  # Tuesday 12:00
    assert "This week, from Tue 8 Dec" in said(out, "branch")
    overdue = said(out, "@alice")  # the admin, from the config
    assert "Newcomers in branch nobody has claimed for 3+ days" in overdue
    assert "• fay — joined 4 days ago" in overdue and "gus" not in overdue
    assert "3+ days" not in said(out, "@sam")  # organisers had their reminder


async def test_forgetme_takes_a_newcomer_off_every_list(bot: NewcomersConsole) -> None:
    await bot.say("/newcomers on", ":chat depot", "/newcomers on")  # alice, the admin
    await bot.say(":chat branch", ":join fay", ":chat depot", ":join fay")
    assert await bot.rows() == 2
    async with bot.app.db.session() as session:
        await bot.say(":user fay", ":chat @", "/start")
        fay = await find_person(session, "console", "fay")
        assert fay is not None
        listed = (await personal_data(session, fay))["newcomer_follow_up"]
    assert sorted(row["chat"]["id"] for row in listed) == ["branch", "depot"]
    out = await bot.say("/forgetme")
    await bot.say(":press " + button(out, "@fay", "Yes, forget me"))
    assert await bot.rows() == 0


async def test_following_up_is_for_the_chats_organisers_only(bot: NewcomersConsole) -> None:
    await bot.say(":user sam", "/newcomers on", ":join fay")
    out = await bot.say(":user mem", ":chat branch", "/newcomers")
    assert "Only organisers can" in out
    out = await bot.say("/newcomers on")
    assert "Only organisers can" in out
    # A forged press from a member, privately: nobody's newcomer is claimed.
    member = UserRef("console", "mem", "mem")
    notice = await bot.app.core.handle(
        ButtonIn(ChatRef("console", "mem", "mem", ChatKind.PRIVATE), member, "nc-claim:1")
    )
    assert notice.notice == "Only organisers of branch can follow its newcomers up."
    out = await bot.say(":chat branch", "/newcomers")  # still nobody's
    out = await bot.say(":user kim", "/newcomers")
    assert "nobody has claimed them" in out
    out = await bot.say(":user sam", "/newcomers off")
    assert "Its list of 1 is deleted." in out and await bot.rows() == 0


async def test_an_unapproved_chat_gets_nothing(sqlite_url: str) -> None:
    config = make_config(sqlite_url, open_network=False)
    async with NewcomersConsole(config, FakeClock(FRIDAY)) as bot:
        # Console chats are approved as they first speak; a Telegram chat nobody
        # approved is what an attacker has: the core is told of it directly.
        chat = ChatRef("telegram", "-100", "Attackers", ChatKind.GROUP)
        boss = UserRef("telegram", "6", "Boss", is_chat_admin=True)
        for event in (
            ButtonIn(chat, boss, "nc-help:1"),
            ButtonIn(chat, boss, "nc-claim:1"),
        ):
            result = await bot.app.core.handle(event)
            assert "isn't part of" in result.notice
        await bot.app.core.handle(CommandIn(chat, boss, "newcomers", "on"))
        await bot.app.core.handle(MemberJoined(chat, UserRef("telegram", "7", "Eve")))
        async with bot.app.db.session() as session:
            attackers = await session.scalar(select(Chat).where(Chat.platform_chat_id == "-100"))
            assert attackers is not None and not attackers.approved
            assert await waiting(session, [attackers.id]) == []
            assert await session.get(NewcomerSettings, attackers.id) is None


async def test_the_list_on_both_databases(database: Database) -> None:
    async with database.session() as session:
        chat = await register_chat(session, ChatRef("console", "branch", "branch"), FRIDAY)
        sam, kim = (
            Person(platform="console", platform_user_id=name, display_name=name, created_at=FRIDAY)
            for name in ("sam", "kim")
        )
        session.add_all([sam, kim])
        await session.flush()
        dana = UserRef("console", "dana", "Dana")
        first, added = await add_newcomer(session, chat.id, dana, FRIDAY)
        again, twice = await add_newcomer(session, chat.id, dana, FRIDAY)
        assert added and not twice and again.id == first.id
        await add_newcomer(session, chat.id, UserRef("console", "eve", "Eve"), FRIDAY)
        assert await claim_newcomer(session, first.id, sam.id, FRIDAY)
        assert not await claim_newcomer(session, first.id, kim.id, FRIDAY)
        listed = [(n.display_name, claimer) for n, claimer in await waiting(session, [chat.id])]
        assert listed == [("Dana", "sam"), ("Eve", "")]
        eve = Person(platform="console", platform_user_id="eve", created_at=FRIDAY)
        await forget_newcomer(session, eve)
        later = cutoffs(RetentionSettings(), FRIDAY + timedelta(days=31))
        assert (await purge(session, later, dry_run=True))["newcomers not marked contacted"] == 1
        await purge(session, later, dry_run=False)
        assert await waiting(session, [chat.id]) == []
