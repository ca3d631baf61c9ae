"""Newcomers through the real adapters (issue 18): a Telegram join told twice (a
chat_member update and a service message) and a Discord member joining both reach
the follow-up list once, with one welcome; organisers claim from their private
chat."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.config import RolesSettings
from bot.types import MemberJoined, UserRef
from storage.newcomers import Newcomer
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord import Person as Member
from tests.fakes.discord.harness import ALICE as DISCORD_ALICE
from tests.fakes.discord.harness import running
from tests.fakes.telegram.api import (
    FakeTelegramAPI,
    callback_update,
    chat_member_update,
    group_chat,
    new_members_update,
    private_chat,
    user,
)
from tests.support.config import make_config
from tests.support.telegram import TelegramSession, chat_ref, shown

ADA = user(3001, "Ada")  # an admin, named in the config
BOB = user(3002, "Bob")
BRANCH = group_chat(-3001, "Branch")


async def rows(app: App) -> list[Newcomer]:
    async with app.db.session() as session:
        return list(await session.scalars(select(Newcomer)))


@pytest.fixture
async def tg(sqlite_url: str) -> AsyncIterator[TelegramSession]:
    roles = RolesSettings(admins=[f"telegram:{ADA['id']}"])
    config = dataclasses.replace(make_config(sqlite_url), roles=roles)
    async with FakeTelegramAPI() as api, TelegramSession(api, config) as bot:
        await bot.start_privately(ADA, BOB)
        await bot.say("/newcomers on", BRANCH, ADA)
        yield bot


async def test_a_telegram_join_told_twice_is_one_newcomer(tg: TelegramSession) -> None:
    mark = tg.api.mark()
    tg.api.push(
        chat_member_update(BRANCH, BOB, BOB, "left", "member"),
        new_members_update(BRANCH, BOB, [BOB]),
    )
    await tg.wait_sent(ADA["id"], after=mark)  # the organisers' note
    await tg.settled()
    await tg.idle()

    (welcome,) = [shown(m) for m in tg.sent(BRANCH["id"], after=mark)]
    assert welcome.startswith("Welcome, Bob! Glad to have you in Branch.")
    (privately,) = tg.sent(BOB["id"], after=mark)
    (helping,) = privately["reply_markup"]["inline_keyboard"][0]
    assert helping["text"] == "👋 I'd like to help"
    (note,) = tg.sent(ADA["id"], after=mark)
    assert shown(note).startswith("👋 Bob joined Branch.")
    (newcomer,) = await rows(tg.app)
    assert newcomer.display_name == "Bob"

    # Another process heard the same join: no second welcome, no second row.
    again = tg.api.mark()
    bob = UserRef("telegram", str(BOB["id"]), "Bob")
    await tg.app.core.handle(MemberJoined(chat_ref(BRANCH), bob))
    await tg.settled()
    assert tg.sent(BRANCH["id"], after=again) == [] and len(await rows(tg.app)) == 1

    # Ada claims from her private chat; Bob, pressing a forged claim, gets nothing.
    (claim,) = note["reply_markup"]["inline_keyboard"][0]
    tg.api.push(callback_update(claim["callback_data"], private_chat(BOB), BOB, query_id="b"))
    refused = await tg.api.wait_for_call(
        "answerCallbackQuery", lambda c: c["callback_query_id"] == "b"
    )
    assert refused["text"] == "Only organisers of Branch can follow its newcomers up."
    tg.api.push(callback_update(claim["callback_data"], private_chat(ADA), ADA, query_id="a"))
    claimed = await tg.api.wait_for_call(
        "answerCallbackQuery", lambda c: c["callback_query_id"] == "a"
    )
    assert claimed["text"] == "Thank you — you're contacting Bob."
    (newcomer,) = await rows(tg.app)
    assert newcomer.claimed_by is not None


async def test_a_discord_member_joining_goes_on_the_list(sqlite_url: str) -> None:
    roles = RolesSettings(admins=[f"discord:{DISCORD_ALICE.user_id}"])
    config = dataclasses.replace(make_config(sqlite_url), roles=roles)
    async with FakeDiscord() as fake, running(fake, config) as bot:
        bot.type("!newcomers on")
        await bot.posted(2)
        bot.gateway.member_add(bot.guild, Member(710000000000000003, "Bob Member"))
        texts = await bot.posted(4)
        await bot.idle()

        general = str(bot.guild.channel_ids["general"])
        where = {m["content"].split("\n")[0]: m["channel_id"] for m in fake.created}
        assert [t for t in texts if t.startswith("Welcome, **Bob Member**!")], texts
        (note,) = [t for t in where if "**Bob Member** joined #general (Branch 42)." in t]
        assert where[note] != general  # to Alice's direct messages
        async with bot.app.db.session() as session:
            count = await session.scalar(select(func.count()).select_from(Newcomer))
        assert count == 1
