"""Rotas through the real adapters (issue 18): a volunteer on Telegram (real
python-telegram-bot against the fake Bot API) and one on Discord (real discord.py
against the fake gateway) each sign up with a button under the rota's message,
are answered privately, and see the message edited with the new count."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.config import RolesSettings
from storage.db import Database
from storage.rotas import RotaSignup
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord import Person as Member
from tests.fakes.discord.harness import ALICE as DISCORD_ALICE
from tests.fakes.discord.harness import running
from tests.fakes.telegram.api import FakeTelegramAPI, callback_update, group_chat, user
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.telegram import TelegramSession, shown

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)

FRIDAY = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
ADD = (
    '/rota add "Food bank" "every Saturday 09:30-12:30" "Hub, Market St" '
    '--slots "Driver:1, Packing:2" --weeks 2'
)
ADA = user(3101, "Ada")  # an admin, named in the config
BOB = user(3102, "Bob")
HUB = group_chat(-3101, "Hub")


async def signups(database: Database) -> list[RotaSignup]:
    async with database.session() as session:
        return list(await session.scalars(select(RotaSignup)))


@pytest.fixture
def friday() -> FakeClock:
    return FakeClock(FRIDAY)


@pytest.fixture
async def tg(sqlite_url: str, friday: FakeClock) -> AsyncIterator[TelegramSession]:
    roles = RolesSettings(admins=[f"telegram:{ADA['id']}"])
    config = dataclasses.replace(make_config(sqlite_url), roles=roles)
    clock = friday
    async with FakeTelegramAPI() as api, TelegramSession(api, config, clock) as bot:
        await bot.start_privately(ADA, BOB)
        yield bot


async def test_a_telegram_volunteer_signs_up_with_a_button(
    tg: TelegramSession, friday: FakeClock
) -> None:
    (card,) = await tg.say(ADD, HUB, ADA)
    assert "Sat 12 Dec · Driver 0/1 · Packing 0/2" in card
    (message,) = tg.sent(HUB["id"])
    buttons = {
        b["text"]: b["callback_data"]
        for row in message["reply_markup"]["inline_keyboard"]
        for b in row
    }
    mark = tg.api.mark()
    tg.api.push(callback_update(buttons["Sat 12 Dec · Driver"], HUB, BOB, query_id="b"))
    answer = await tg.api.wait_for_call(
        "answerCallbackQuery", lambda c: c["callback_query_id"] == "b"
    )
    assert answer["text"].startswith("You're on: Driver, Food bank, Sat 12 Dec, 09:30–12:30")
    friday.advance(seconds=2)  # the copies are redrawn shortly after
    await tg.app.timer.run_due()
    edit = await tg.api.wait_for_call("editMessageText", after=mark)
    assert "Sat 12 Dec · Driver 1/1 ✔ · Packing 0/2" in shown(edit)
    (signup,) = await signups(tg.app.db)
    assert not signup.waiting


async def test_a_discord_volunteer_signs_up_with_a_button(sqlite_url: str) -> None:
    roles = RolesSettings(admins=[f"discord:{DISCORD_ALICE.user_id}"])
    config = dataclasses.replace(make_config(sqlite_url), roles=roles)
    bob = Member(710000000000000007, "Bob Volunteer")
    clock = FakeClock(FRIDAY)
    async with FakeDiscord() as fake, running(fake, config, clock=clock) as bot:
        bot.type("!" + ADD[1:])
        await fake.wait_for(lambda: any("rota #1" in text for text in fake.texts()))
        message = next(m for m in fake.created if "rota #1" in (m["content"] or ""))
        buttons = {
            b["label"]: b["custom_id"] for row in message["components"] for b in row["components"]
        }
        press = fake.press(bot.guild, "general", bob, message, buttons["Sat 12 Dec · Packing"])
        bot.gateway.send("INTERACTION_CREATE", press)
        answer = (await bot.answers(1))[0]
        assert answer.ephemeral
        assert answer.text.startswith("You're on: Packing, Food bank, Sat 12 Dec")
        clock.advance(seconds=2)  # the copies are redrawn shortly after
        await bot.app.timer.run_due()
        await fake.wait_for(
            lambda: any(r.method == "PATCH" and "Packing 1/2" in str(r.body) for r in fake.requests)
        )
        (signup,) = await signups(bot.app.db)
        assert not signup.waiting
