"""Calendar files reach phones as files: the whole bot — core, outbox and the real
python-telegram-bot or discord.py — against the fake Telegram and Discord. (The
console's saved files are in test_meetings.py.)"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from icalendar import Calendar

from bot.config import RolesSettings
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.harness import ALICE as DISCORD_ALICE
from tests.fakes.discord.harness import running
from tests.fakes.telegram.api import Params, group_chat, user
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.telegram import TelegramSession, telegram_session

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)

ALICE = user(401, "Alice")
DEPOT = group_chat(-1004001, "Depot branch")
TITLE = "Smith & Sons <Depot> GC"
ADD = f'meeting add "{TITLE}" "first Tuesday of the month 19:30" "Miners\' Welfare"'


def events(data: bytes) -> list[str]:
    """The summaries of the events in a calendar file, which must parse."""
    return [str(event["SUMMARY"]) for event in Calendar.from_ical(data).walk("VEVENT")]


@pytest.fixture
async def tg(sqlite_url: str, clock: FakeClock) -> AsyncIterator[TelegramSession]:
    async with telegram_session(sqlite_url, ALICE, clock) as bot:
        yield bot


def document(tg: TelegramSession, after: int) -> Params:
    (call,) = tg.api.calls_to("sendDocument", after)
    return call


async def test_telegram_gets_a_document_captioned_with_the_words(tg: TelegramSession) -> None:
    await tg.say(f"/{ADD}", DEPOT, ALICE)

    mark = tg.api.mark()
    (shown,) = await tg.say("/meeting ics 1", DEPOT, ALICE)
    call = document(tg, mark)
    upload = call["document"]

    assert shown == (
        f"📅 {TITLE}\nTap smith-sons-depot-gc.ics to add it to your calendar.\n"
        "Or: add to Google Calendar"
    )
    assert call["caption"].startswith("📅 <b>Smith &amp; Sons &lt;Depot&gt; GC</b>\n")
    assert (
        '<a href="https://calendar.google.com/calendar/render?action=TEMPLATE&amp;'
        in (call["caption"])
    )
    assert (upload.file_name, upload.mime_type) == ("smith-sons-depot-gc.ics", "text/calendar")
    assert events(upload.data) == [TITLE]
    assert tg.api.calls_to("sendMessage", mark) == []  # one message: the file and its words

    mark = tg.api.mark()
    (shown,) = await tg.say("/calendar", DEPOT, ALICE)
    upload = document(tg, mark)["document"]
    assert (
        shown
        == "📅 Depot branch meetings\nTap depot-branch-meetings.ics to add it to your calendar."
    )
    assert upload.file_name == "depot-branch-meetings.ics"
    assert events(upload.data) == [TITLE]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


async def test_discord_attaches_the_file_in_the_channel_and_to_slash_answers(
    fake: FakeDiscord, sqlite_url: str
) -> None:
    config = dataclasses.replace(
        make_config(sqlite_url),
        roles=RolesSettings(admins=[f"discord:{DISCORD_ALICE.user_id}"]),
    )
    async with running(fake, config, pace=False) as bot:
        bot.type(f"!{ADD}")
        await bot.posted(2)
        bot.type("!meeting ics 1")
        texts = await bot.posted(3)
        bot.slash("calendar")
        (answer,) = await bot.answers(1)
        await bot.idle()

    assert texts[2].startswith("📅 **Smith & Sons <Depot> GC**\nTap smith-sons-depot-gc.ics to")
    (attached,) = fake.created[2]["attachments"]
    assert (attached["filename"], attached["content_type"]) == (
        "smith-sons-depot-gc.ics",
        "text/calendar",
    )
    assert answer.text.startswith("📅 **\\#general (Branch 42) meetings**")
    assert answer.message["attachments"][0]["filename"] == "general-branch-42-meetings.ics"
    ics, calendar = fake.uploads()
    assert (ics.file_name, calendar.file_name) == (
        "smith-sons-depot-gc.ics",
        "general-branch-42-meetings.ics",
    )
    assert events(ics.data) == events(calendar.data) == [TITLE]
