"""Who may do what, tried for real: the table in :mod:`tests.support.who_may`, every
row for every kind of person on the console, and the rows marked ``subset`` on
Telegram and Discord through their real adapters and the fakes at the HTTP edge.

A refusal must say why, and deliver nothing to any other chat; an allowed action
must show its own words of success. README's "Who may do what" is this table.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest

from bot.config import Config, RolesSettings
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.api import MANAGE_GUILD, FakeGuild, Person
from tests.fakes.discord.harness import ALICE as DISCORD_ALICE
from tests.fakes.discord.harness import Running, running
from tests.fakes.telegram.api import (
    FakeTelegramAPI,
    command_update,
    group_chat,
    private_chat,
    user,
)
from tests.fakes.telegram.api import visible_text as telegram_text
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession
from tests.support.telegram import TIMEOUT, TelegramSession
from tests.support.who_may import OWN_DISPUTE, REFUSALS, TABLE, WORLD, Row, Who, Why, render

README = Path(__file__).parent.parent / "README.md"


@dataclass
class Said:
    """What the bot said in the acting person's chat, and in which other chats it
    said anything at all."""

    here: str
    elsewhere: list[str] = field(default_factory=list)


def judge(row: Row, who: Who, said: Said) -> str | None:
    """Why the answer is not what the table says, or ``None`` if it is."""
    expected = row.outcome(who)
    if expected is Why.YES:
        refused = [why for why, words in REFUSALS.items() if words.search(said.here)]
        ok = row.done in said.here and not refused
    else:
        ok = bool(REFUSALS[expected].search(said.here)) and not said.elsewhere
    if ok:
        return None
    return f"{row.line!r} as {who.value}: expected {expected.value}, got {said}"


class World(Protocol):
    async def act(self, who: Who, line: str) -> Said: ...


async def run_rows(world: World, who: Who, rows: tuple[Row, ...]) -> list[str]:
    wrong = []
    for row in rows:
        if row.outcome(who) is Why.NA or row.press:
            continue
        problem = judge(row, who, await world.act(who, row.line))
        if problem:
            wrong.append(problem)
    return wrong


# --- the console: every row ------------------------------------------------------------

CONSOLE_ACTORS = {
    Who.MEMBER: ("branch", "mem"),
    Who.ORGANISER: ("branch", "org"),
    Who.ELSEWHERE: ("branch", "orgb"),
    Who.OUTSIDER: ("outside", "out"),
    Who.TULO: ("branch", "tulo"),
    Who.ADMIN: ("branch", "alice"),
    Who.STRANGER: ("@", "stranger"),
}


def closed_config(url: str, admin: str) -> Config:
    """The shipped default: a closed network, ``admin`` named in the config."""
    return dataclasses.replace(
        make_config(url, open_network=False), roles=RolesSettings(admins=[admin])
    )


class ConsoleWorld:
    def __init__(self, session: ConsoleSession) -> None:
        self.session = session

    async def build(self) -> None:
        """Chats 1 branch (region:a), 2 depot (region:b), 3 outside (taken out)."""
        say = self.session.say
        await say(":user alice", ":chat branch", "/tag region:a", ":chat depot", "/tag region:b")
        await say(":user out", ":chat outside", ":admin on", "/start")
        await say(":user orgb", ":chat depot", "/start", ":user alice", "/grant orgb organiser")
        await say(":chat branch")
        for name in ("mem", "org", "orgb", "tulo"):
            await say(f":user {name}", "/start")
        await say(":user alice", "/grant org organiser", "/grant tulo tulo", "/chats remove 3")
        await say(":user stranger", ":chat @", "/start")
        await say(":user alice", ":chat branch", *WORLD, ":user org", OWN_DISPUTE)

    async def act(self, who: Who, line: str) -> Said:
        chat, name = CONSOLE_ACTORS[who]
        await self.session.say(f":user {name}", f":chat {chat}")
        return self._split(await self.session.say(line), chat, name)

    async def press(self, who: Who, row: Row) -> Said:
        shown = await self.session.say(":user alice", ":chat branch", row.line)
        number = re.search(rf"\[(\d+)\] {row.press}", shown)
        assert number, shown
        chat, name = CONSOLE_ACTORS[who]
        await self.session.say(f":user {name}")
        return self._split(await self.session.say(f":press {number[1]}"), chat, name)

    @staticmethod
    def _split(out: str, chat: str, name: str) -> Said:
        label = f"@{name}" if chat == "@" else chat
        said = Said("")
        for block in re.split(r"\n(?=\[)", out.strip()):
            if not block:
                continue
            where = block[1 : block.index("]")]
            if where == label:
                said.here += block + "\n"
            else:
                said.elsewhere.append(where)
        return said


@pytest.mark.parametrize("who", list(Who), ids=lambda who: who.name.lower())
async def test_who_may_do_what_on_the_console(sqlite_url: str, who: Who) -> None:
    config = closed_config(sqlite_url, "console:alice")
    async with ConsoleSession(config, FakeClock()) as session:
        world = ConsoleWorld(session)
        await world.build()
        wrong = await run_rows(world, who, TABLE)
        for row in TABLE:
            if row.press and row.outcome(who) is not Why.NA:
                problem = judge(row, who, await world.press(who, row))
                wrong += [problem] if problem else []
    assert wrong == []


def test_readme_shows_the_table() -> None:
    assert render() in README.read_text(encoding="utf-8")


class Platform(Protocol):
    async def say(self, chat: str, name: str, *lines: str) -> None: ...


async def build_world(platform: Platform) -> None:
    """The admin approves and tags branch and depot, where the organisers are made,
    then builds :data:`WORLD` in branch (on a platform that approves no chat itself)."""
    await platform.say("branch", "alice", "/join", "/tag region:a")
    await platform.say("depot", "alice", "/join", "/tag region:b")
    await platform.say("outside", "out", "/start")
    await platform.say("depot", "orgb", "/start")
    await platform.say("depot", "alice", "/grant Orgb organiser")
    for name in ("mem", "org", "orgb", "tulo"):
        await platform.say("branch", name, "/start")
    await platform.say("branch", "alice", "/grant Org organiser", "/grant Tulo tulo", *WORLD)
    await platform.say("branch", "org", OWN_DISPUTE)


# --- Telegram: the subset, through the real adapter --------------------------------------

TG = {
    "alice": user(1001, "Alice"),
    "mem": user(1002, "Mem"),
    "org": user(1003, "Org"),
    "orgb": user(1004, "Orgb"),
    "tulo": user(1005, "Tulo"),
    "out": user(1006, "Out"),
    "stranger": user(1007, "Stranger"),
}
TG_CHATS = {
    "branch": group_chat(-1001, "Branch"),
    "depot": group_chat(-1002, "Depot"),
    "outside": group_chat(-1003, "Outside"),
}
SUBSET = tuple(row for row in TABLE if row.subset)


class TelegramWorld:
    def __init__(self, bot: TelegramSession) -> None:
        self.bot = bot

    def where(self, who: Who) -> tuple[dict[str, Any], dict[str, Any]]:
        chat, name = CONSOLE_ACTORS[who]
        person = TG[name]
        return (private_chat(person) if chat == "@" else TG_CHATS[chat]), person

    async def say(self, chat: str, name: str, *lines: str) -> None:
        for line in lines:
            await self.bot.say(line, TG_CHATS[chat], TG[name])

    async def build(self) -> None:
        self.bot.api.set_admins(TG_CHATS["outside"]["id"], [TG["out"]])
        await build_world(self)
        # Everyone has started the bot: an answer for them alone (a refusal) reaches
        # their private chat, as the console shows it "(only you)".
        await self.bot.start_privately(*TG.values())

    async def act(self, who: Who, line: str) -> Said:
        chat, person = self.where(who)
        api = self.bot.api
        mark = api.mark()
        api.push(command_update(line, chat, person))
        mine = {str(chat["id"]), str(person["id"])}  # here, or privately to them
        await api.wait_until(
            lambda: any(self.bot.sent(chat_id, after=mark) for chat_id in mine), TIMEOUT
        )
        await self.bot.idle()
        said = Said("")
        for call in api.calls[mark:]:
            if not call.method.startswith("send") or call.status != 200:
                continue
            text = telegram_text(str(call.params.get("text", call.params.get("caption", ""))))
            if str(call.params["chat_id"]) in mine:
                said.here += text + "\n"
            else:
                said.elsewhere.append(str(call.params["chat_id"]))
        return said


@pytest.mark.parametrize("who", list(Who), ids=lambda who: who.name.lower())
async def test_who_may_do_what_on_telegram(sqlite_url: str, who: Who) -> None:
    config = closed_config(sqlite_url, f"telegram:{TG['alice']['id']}")
    async with FakeTelegramAPI() as api, TelegramSession(api, config, FakeClock()) as bot:
        world = TelegramWorld(bot)
        await world.build()
        assert await run_rows(world, who, SUBSET) == []


# --- Discord: the subset, through the real adapter ---------------------------------------

DC = {
    "mem": Person(720000000000000002, "Mem"),
    "org": Person(720000000000000003, "Org"),
    "orgb": Person(720000000000000004, "Orgb"),
    "tulo": Person(720000000000000005, "Tulo"),
    # In a server of her own, with roles she named "TULO" and "Organiser".
    "out": Person(720000000000000006, "Out", roles=("TULO", "Organiser", "Admin")),
    "stranger": Person(720000000000000007, "Stranger"),
}
CHANNELS = {"branch": "general", "depot": "picket-line", "outside": "lobby"}


def outsiders_server() -> FakeGuild:
    return FakeGuild(
        name="Outsider",
        channels=("lobby",),
        roles={"TULO": 0, "Organiser": 0, "Admin": MANAGE_GUILD},
        system_channel="lobby",
    )


class DiscordWorld:
    def __init__(self, bot: Running, outsider: FakeGuild) -> None:
        self.bot = bot
        self.outsider = outsider

    def person(self, name: str) -> Person:
        return DISCORD_ALICE if name == "alice" else DC[name]

    def guild(self, chat: str) -> FakeGuild:
        return self.outsider if chat == "outside" else self.bot.guild

    async def say(self, chat: str, name: str, *lines: str) -> None:
        for line in lines:
            await self._type(chat, self.person(name), line)

    def mine(self, chat: str, person: Person) -> set[str]:
        """The channel typed in, and the person's DM: a text command's answer for
        the asker alone goes there, the channel being read by everyone."""
        here = str(self.guild(chat).channel_ids[CHANNELS[chat]])
        dm = self.bot.fake.dm_channels.get(person.user_id)
        return {here} if dm is None else {here, str(dm)}

    async def _type(self, chat: str, person: Person, line: str) -> list[dict[str, Any]]:
        fake, before = self.bot.fake, len(self.bot.fake.created)
        self.bot.gateway.message(
            self.guild(chat), CHANNELS[chat], person, "!" + line.removeprefix("/")
        )
        await fake.wait_for(
            lambda: any(m["channel_id"] in self.mine(chat, person) for m in fake.created[before:])
        )
        await self.bot.idle()
        return fake.created[before:]

    async def build(self) -> None:
        greeted = len(self.bot.fake.created) + 1
        self.bot.gateway.guild_create(self.outsider)
        await self.bot.fake.wait_for(lambda: len(self.bot.fake.created) >= greeted)
        await build_world(self)

    async def act(self, who: Who, line: str) -> Said:
        chat, name = CONSOLE_ACTORS[who]
        if chat == "@":
            return await self._in_dm(self.person(name), line)
        person = self.person(name)
        said = Said("")
        for message in await self._type(chat, person, line):
            text = message["content"] or message["embeds"][0]["description"]
            if message["channel_id"] in self.mine(chat, person):
                said.here += text + "\n"
            else:
                said.elsewhere.append(message["channel_id"])
        return said

    async def _in_dm(self, person: Person, line: str) -> Said:
        """A slash command in the person's DMs (the fake's DMs take no options)."""
        fake = self.bot.fake
        answers, created = len(fake.answers), len(fake.created)
        self.bot.gateway.send("INTERACTION_CREATE", fake.slash_in_dm(person, line[1:]))
        await self.bot.answers(answers + 1)
        await self.bot.idle()
        return Said(
            "\n".join(answer.text for answer in fake.answers[answers:]),
            [m["channel_id"] for m in fake.created[created:]],
        )


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.mark.parametrize("who", list(Who), ids=lambda who: who.name.lower())
async def test_who_may_do_what_on_discord(
    fake_discord: FakeDiscord, sqlite_url: str, who: Who
) -> None:
    config = closed_config(sqlite_url, f"discord:{DISCORD_ALICE.user_id}")
    # Only option-less commands can be picked in the fake's DMs.
    rows = SUBSET if who is not Who.STRANGER else tuple(r for r in SUBSET if " " not in r.line)
    async with running(fake_discord, config, pace=False) as bot:
        world = DiscordWorld(bot, outsiders_server())
        await world.build()
        assert await run_rows(world, who, rows) == []
