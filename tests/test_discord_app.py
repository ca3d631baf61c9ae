"""The whole bot on Discord: the real App, core, outbox and discord.py client against
a fake Discord (REST on a local server, gateway payloads into discord.py's parsers).

Each bot is started the way ``create_bot()`` wires it: logging the client in runs
its ``setup_hook``, which starts the application; closing the client stops it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import adapters.discord
import adapters.runner
from adapters.console import ConsoleSettings
from adapters.discord import (
    DiscordAdapter,
    DiscordSettings,
    OrganiseClient,
    connected,
    create_bot,
    host,
    publish_commands,
)
from adapters.runner import run
from bot.app import App
from bot.commands import build_registry
from bot.config import ConfigError
from bot.platform import Adapter
from bot.registry import Command, Registry
from bot.services import Services
from bot.text import bold, rich
from bot.types import Content, Outgoing
from storage.chats import chat_ref, direct_chat, find_person
from storage.models import Chat, OutboxRow, Person
from tests.fakes.discord import TOKEN, FakeDiscord, FakeGuild, Gateway, quick_ready
from tests.fakes.discord import Person as Member
from tests.fakes.discord.harness import ALICE, running
from tests.support.config import make_config


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


def sender_tasks() -> list[asyncio.Task[Any]]:
    """The outbox's sending and recording tasks still running, of any application."""
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith(("sender-", "recorder-")) and not task.done()
    ]


# --- commands ----------------------------------------------------------------------------


async def test_slash_commands_are_answered_in_the_interaction(
    fake: FakeDiscord, sqlite_url: str
) -> None:
    async with running(fake, make_config(sqlite_url)) as bot:
        bot.slash("help")
        (help_answer,) = await bot.answers(1)
        bot.slash("whoami")
        whoami = (await bot.answers(2))[1]
        bot.slash("tag", {"tags1": "region:cannock"})
        refusal = (await bot.answers(3))[2]

    assert help_answer.text.startswith("**What I can do**\n\n/start — Say hello")
    assert (help_answer.ephemeral, help_answer.replaced_placeholder) == (False, True)
    assert f"Id: discord:{ALICE.user_id}" in whoami.text
    assert (whoami.ephemeral, whoami.replaced_placeholder) == (True, True)
    assert refusal.text.startswith("Only organisers can use /tag.")
    assert refusal.ephemeral  # the public "thinking…" was removed, the error shown privately
    assert len(fake.calls("DELETE", r"/webhooks/\d+/[^/]+/messages/@original")) == 1
    assert len(fake.created) == 1  # only the greeting went to the channel


async def test_text_commands_are_answered_in_the_channel(
    fake: FakeDiscord, sqlite_url: str
) -> None:
    async with running(fake, make_config(sqlite_url)) as bot:
        bot.type("!help")
        await bot.posted(2)
        bot.type("!hepl")
        texts = await bot.posted(3)

    assert texts[1].startswith("**What I can do**")
    assert texts[2] == "I don't know /hepl. Did you mean /help? Send /help for the list."
    assert fake.answers == []


async def test_a_text_commands_private_answer_goes_by_dm(
    fake: FakeDiscord, sqlite_url: str
) -> None:
    """A text command's answer is read by the whole channel (it cannot be ephemeral
    like a slash command's): ``!whoami`` is answered in the asker's DM, which the bot
    opens itself — the channel sees nothing of it."""
    async with running(fake, make_config(sqlite_url)) as bot:
        bot.type("!whoami")
        texts = await bot.posted(2)
        await bot.idle()

    dm = fake.dm_channels[ALICE.user_id]
    (answer,) = [m for m in fake.created if m["channel_id"] == str(dm)]
    assert f"Id: discord:{ALICE.user_id}" in answer["content"]
    channel = [m for m in fake.created if m["channel_id"] != str(dm)]
    assert len(channel) == 1  # only the greeting when the bot joined
    assert texts[-1] == answer["content"]


async def test_button_press_after_a_restart(fake: FakeDiscord, sqlite_url: str) -> None:
    guild = FakeGuild()
    async with running(fake, make_config(sqlite_url), guild) as bot:
        bot.slash("forgetme")
        (question,) = await bot.answers(1)
    assert question.ephemeral
    (row,) = question.body["components"]
    (button,) = row["components"]

    async with running(
        fake, make_config(sqlite_url), guild, join=False
    ) as bot:  # a new app and client
        press = fake.press(guild, "general", ALICE, question.message, button["custom_id"])
        bot.gateway.send("INTERACTION_CREATE", press)
        done = (await bot.answers(2))[1]
        async with bot.app.db.session() as session:
            alice = await find_person(session, "discord", str(ALICE.user_id))

    assert done.text.startswith("Done: I have forgotten you.")
    assert done.ephemeral
    assert alice is None


# --- life-cycle ----------------------------------------------------------------------------


async def test_member_join_reaches_the_core(fake: FakeDiscord, sqlite_url: str) -> None:
    async def welcome(
        session: AsyncSession, services: Services, chat: Chat, person: Person
    ) -> list[Outgoing]:
        return [Outgoing(chat_ref(chat), Content(rich("Welcome, ", bold(person.display_name))))]

    registry = Registry()  # this welcome alone, whatever the capabilities send
    registry.on_member_joined(welcome)
    async with running(fake, make_config(sqlite_url), registry=registry) as bot:
        bot.gateway.member_add(bot.guild, Member(710000000000000002, "Bob Member"))
        texts = await bot.posted(2)

    assert texts[0].startswith("Hello! I'm Organise bot.")
    assert texts[1] == "Welcome, **Bob Member**"
    general = str(bot.guild.channel_ids["general"])
    assert [m["channel_id"] for m in fake.created] == [general, general]


async def test_removed_from_a_server_nothing_more_is_sent_there(
    fake: FakeDiscord, sqlite_url: str
) -> None:
    async with running(fake, make_config(sqlite_url)) as bot:
        bot.type("!tags", channel="picket-line")  # the core now knows both channels
        await bot.posted(2)

        bot.gateway.guild_delete(bot.guild)

        async def both_inactive() -> bool:
            chats = [await bot.chat("general"), await bot.chat("picket-line")]
            return all(chat is not None and not chat.active for chat in chats)

        await bot.until(both_inactive)
        async with bot.app.db.session() as session:
            broadcast = [
                Outgoing(bot.channel(name), Content(rich("Strike!")))
                for name in ("general", "picket-line")
            ]
            assert await bot.app.outbox.enqueue(session, broadcast) == [None, None]
        await bot.idle()

    assert len(fake.messages()) == 2


# --- delivery ------------------------------------------------------------------------------


async def test_429_is_retried_by_discord_py_not_by_the_outbox(
    fake: FakeDiscord, sqlite_url: str
) -> None:
    async with running(fake, make_config(sqlite_url)) as bot:
        fake.fail(429, retry_after=0.05)
        bot.type("!tags")
        texts = await bot.posted(2)
        await bot.idle()
        async with bot.app.db.session() as session:
            rows = list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))

    assert texts[1].startswith("This chat has no tags yet.")
    assert len(fake.messages()) == 3  # the greeting, the 429, discord.py's own retry
    assert [(row.status, row.attempts) for row in rows] == [("sent", 0), ("sent", 0)]


async def test_403_makes_the_chat_inactive(fake: FakeDiscord, sqlite_url: str) -> None:
    async with running(fake, make_config(sqlite_url)) as bot:
        fake.fail(403)
        bot.type("!tags")

        async def refused() -> bool:
            chat = await bot.chat("general")
            return chat is not None and not chat.active

        await bot.until(refused)
        chat = await bot.chat("general")
        async with bot.app.db.session() as session:
            reply = await session.scalar(select(OutboxRow).order_by(OutboxRow.id.desc()))
            later = [Outgoing(bot.channel("general"), Content(rich("Strike!")))]
            assert await bot.app.outbox.enqueue(session, later) == [None]

    assert chat is not None and chat.inactive_reason.startswith("403 Missing Permissions")
    assert reply is not None and (reply.status, reply.attempts) == ("failed", 0)
    assert len(fake.messages()) == 2  # the greeting and the one refused reply


async def test_a_direct_message_goes_to_the_persons_dm_channel(
    fake: FakeDiscord, sqlite_url: str
) -> None:
    async with running(fake, make_config(sqlite_url)) as bot:
        bot.slash("whoami")
        await bot.answers(1)
        async with bot.app.db.session() as session:
            alice = await find_person(session, "discord", str(ALICE.user_id))
            assert alice is not None
            ref = await direct_chat(session, alice, bot.app.clock.now())
            reminder = Outgoing(ref, Content(rich("Branch meeting at 7")))
            await bot.app.outbox.enqueue(session, [reminder])
        texts = await bot.posted(2)

    assert texts[1] == "Branch meeting at 7"
    assert fake.created[1]["channel_id"] == str(fake.dm_channels[ALICE.user_id])


# --- create_bot() and organise-bot run ------------------------------------------------------


def write_config(folder: Path, url: str) -> Path:
    path = folder / "config.toml"
    path.write_text(f'[database]\nurl = "{url}"\n\n[outbox]\npoll_seconds = 0.02\n')
    return path


async def test_create_bot_is_wired_but_unstarted_until_logged_in(
    fake: FakeDiscord, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_BOT_TOKEN", TOKEN)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    bot = create_bot(write_config(tmp_path, sqlite_url))

    assert isinstance(bot, OrganiseClient) and bot.app is not None
    assert fake.requests == [] and sender_tasks() == []

    await bot.login(TOKEN)  # what bot.start(token) does before connecting
    try:
        assert len(sender_tasks()) == 2  # the Discord sender and its recorder
        assert len(fake.calls("PUT", r"/applications/\d+/commands")) == 1
        Gateway(bot).send("INTERACTION_CREATE", fake.slash(FakeGuild(), "general", ALICE, "help"))
        await fake.wait_for(lambda: len(fake.answers) == 1)
    finally:
        await bot.close()

    assert fake.answers[0].text.startswith("**What I can do**")
    assert sender_tasks() == []
    assert bot.is_closed()


async def test_commands_are_published_again_only_when_they_changed(
    fake: FakeDiscord, sqlite_url: str
) -> None:
    config = make_config(sqlite_url)
    syncs = r"/applications/\d+/commands"
    async with running(fake, config, join=False):
        pass
    async with running(fake, config, join=False):
        pass
    assert len(fake.calls("PUT", syncs)) == 1

    registry = build_registry()
    registry.add(Command("banner", "Show the branch banner"))
    async with running(fake, config, join=False, registry=registry):
        pass
    assert len(fake.calls("PUT", syncs)) == 2
    assert "banner" in {command["name"] for command in fake.calls("PUT", syncs)[-1].body}

    discord_config = dataclasses.replace(config, tokens={"discord": TOKEN})
    assert await publish_commands(discord_config) == ["global"]  # organise-bot discord sync
    assert len(fake.calls("PUT", syncs)) == 3
    async with running(fake, config, join=False):
        pass
    assert len(fake.calls("PUT", syncs)) == 3  # the forced sync stored its hash too


def test_create_bot_needs_the_token(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISCORD_BOT_TOKEN", raising=False)
    with pytest.raises(ConfigError, match="DISCORD_BOT_TOKEN is not set"):
        create_bot(write_config(tmp_path, sqlite_url))


def bot_for(url: str) -> OrganiseClient:
    config = make_config(url)
    registry = build_registry()
    bot = host(App(config, [DiscordAdapter(DiscordSettings(), list(registry))], registry=registry))
    quick_ready(bot)
    return bot


async def test_connected_serves_until_closed(fake: FakeDiscord, sqlite_url: str) -> None:
    bot = bot_for(sqlite_url)
    async with connected(bot, TOKEN) as gateway:
        assert bot.is_ready() and not gateway.done()
        assert fake.identify is not None and fake.identify["token"] == TOKEN
        wanted = discord.Intents(
            guilds=True, members=True, guild_messages=True, message_content=True
        )
        assert fake.identify["intents"] == wanted.value
        assert len(sender_tasks()) == 2
    assert bot.is_closed() and gateway.done()
    assert sender_tasks() == []


async def test_refusals_at_connect_say_what_to_do(fake: FakeDiscord, sqlite_url: str) -> None:
    fake.refuse_with = 4014  # "Disallowed intent(s)"
    with pytest.raises(ConfigError, match="enable the Server Members intent"):
        async with connected(bot_for(sqlite_url), TOKEN):
            pass
    assert sender_tasks() == []

    fake.fail(401, method="GET", path="/users/@me")
    with pytest.raises(ConfigError, match="Discord refused DISCORD_BOT_TOKEN"):
        async with connected(bot_for(sqlite_url), TOKEN):
            pass


async def test_organise_bot_run_serves_discord_and_the_console(
    fake: FakeDiscord,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = dataclasses.replace(
        make_config(sqlite_url).with_platform("console", ConsoleSettings(enabled="yes")),
        tokens={"discord": TOKEN},
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO("/whoami\n"))  # the console's input
    quickly_ready(monkeypatch)

    await run(config, interactive=False)

    assert fake.identify is not None  # Discord was connected…
    assert len(fake.calls("PUT", r"/applications/\d+/commands")) == 1
    assert "Your role here: admin" in capsys.readouterr().out  # …while the console answered
    assert sender_tasks() == []


def quickly_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    """``organise-bot run``'s Discord client, :func:`quick_ready`."""
    built = adapters.runner.build_adapters

    def build_quickly(*args: Any, **kwargs: Any) -> list[Adapter]:
        made = built(*args, **kwargs)
        for adapter in made:
            if isinstance(adapter, DiscordAdapter):
                quick_ready(adapter.client)
        return made

    monkeypatch.setattr(adapters.runner, "build_adapters", build_quickly)


async def test_organise_bot_run_starts_discord_like_any_adapter(
    fake: FakeDiscord, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner starts the App once, and the App the Discord adapter, which connects
    itself: a refusal at connect stops what had started and says what to do."""
    config = dataclasses.replace(
        make_config(sqlite_url).with_platform("console", ConsoleSettings(enabled="no")),
        tokens={"discord": TOKEN},
    )
    quickly_ready(monkeypatch)
    fake.refuse_with = 4014  # "Disallowed intent(s)"
    with pytest.raises(ConfigError, match="enable the Server Members intent"):
        await run(config, interactive=False)
    assert fake.identify is not None
    assert sender_tasks() == []
