"""/mydata and /forgetme for a person who used every feature: the export lists every
kind of row, and after /forgetme their name and id are nowhere in the database's
bytes (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.types import Attachment, ButtonIn, ChatKind, ChatRef, CommandIn, Content, UserRef
from storage.copies import AlertAudit
from storage.db import Database
from storage.models import OutboxRow, Person
from tests.support.at_rest import database_bytes, found_in
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession

NAME = "Zqx Bobsecretname"
UID = "913775512377"
BOB = UserRef("console", UID, NAME)
BRANCH = ChatRef("console", "branch", "branch")
BOBS_DM = ChatRef("console", UID, NAME, ChatKind.PRIVATE)
PICKET = '/picket add 1 "Lye Depot" 52.4589,-2.1406 tomorrow 06:00-10:00'


class Branch:
    """alice (an admin) at the console; bob, with a platform id apart from his name,
    speaking to the core directly — in the branch chat and in his private chat."""

    def __init__(self, bot: ConsoleSession) -> None:
        self.bot = bot

    async def bob(self, command: str, rest: str = "", chat: ChatRef = BRANCH) -> None:
        await self.bot.app.core.handle(CommandIn(chat, BOB, command, rest))
        await self.bot.app.senders["console"].idle()

    async def bob_presses(self, data_prefix: str, chat: ChatRef = BRANCH) -> str:
        data = await self.button(data_prefix)
        result = await self.bot.app.core.handle(ButtonIn(chat, BOB, data))
        await self.bot.app.senders["console"].idle()
        return result.notice

    async def button(self, data_prefix: str) -> str:
        """The newest stored button whose data starts with ``data_prefix``."""
        async with self.bot.app.db.session() as session:
            payloads = list(
                await session.scalars(select(OutboxRow.payload).order_by(OutboxRow.id.desc()))
            )
        for payload in payloads:
            for row in payload.get("buttons", []):
                for _, data in row:
                    if data.startswith(data_prefix):
                        return str(data)
        raise AssertionError(f"no button {data_prefix}…")

    async def export(self) -> dict[str, object]:
        await self.bob("mydata", chat=BOBS_DM)
        async with self.bot.app.db.session() as session:
            payload = await session.scalar(
                select(OutboxRow.payload)
                .where(OutboxRow.dedupe_key.like("mydata:%"))
                .order_by(OutboxRow.id.desc())
            )
        assert payload is not None
        attachment = Content.from_payload(payload).attachment
        assert isinstance(attachment, Attachment) and attachment.file_name == "my-data.json"
        data: dict[str, object] = json.loads(attachment.data)
        return data


@pytest.fixture
async def branch(database: Database, clock: FakeClock) -> AsyncIterator[Branch]:
    async with ConsoleSession(make_config(database.url), clock) as bot:
        branch = Branch(bot)
        await bot.say(
            "/tag region:west-midlands",
            '/dispute add UNISON "Sandwell Council" "Pay" region:west-midlands',
        )
        await branch.bob("start")
        await branch.bob("whoami")
        await bot.say(f'/grant "{NAME}" organiser')
        await bot.say('/yesno "Strike?"', PICKET, '/meeting add "GC" "Thu 19:00" "Hall"')
        await branch.bob_presses("vote:1:0")
        await branch.bob_presses("going:1")
        await branch.bob_presses("rsvp:1:")
        await branch.bob("alert", "send region:west-midlands Rally at noon")
        await branch.bob("poll", "results 1")  # as an organiser: names come privately
        yield branch


async def test_mydata_lists_every_kind_of_row(branch: Branch) -> None:
    data = await branch.export()
    assert data["person"] == {
        "platform": "console",
        "id": UID,
        "name": NAME,
        "first_seen": data["person"]["first_seen"],  # type: ignore[index]
    }
    assert [r["role"] for r in data["roles"]] == ["organiser"]  # type: ignore[attr-defined]
    for kind in (
        "chats_seen_in",
        "roles",
        "meeting_rsvps",
        "picket_pledges",
        "named_votes",
        "audit_rows",
        "messages_to_you",
    ):
        assert data[kind], f"{kind} is empty"
    assert data["named_votes"][0]["chose"] == ["Yes"]  # type: ignore[index]
    assert data["private_chat"] == {"platform": "console", "id": UID, "title": NAME}
    assert any("Who voted" in m["text"] for m in data["messages_to_you"])  # type: ignore[attr-defined]


async def test_mydata_in_a_group_says_to_ask_privately(branch: Branch) -> None:
    await branch.bob("mydata")
    async with branch.bot.app.db.session() as session:
        exports = await session.scalar(
            select(func.count()).where(OutboxRow.dedupe_key.like("mydata:%"))
        )
    assert exports == 0


async def test_forgetme_leaves_no_name_or_id_in_the_files(branch: Branch) -> None:
    await branch.export()
    db = branch.bot.app.db
    before = await database_bytes(db)
    assert found_in(before, [NAME, UID]) == [NAME, UID]
    await branch.bob("forgetme")
    notice = await branch.bob_presses("forget:")
    assert "I have forgotten you" in notice
    await db.scrubber.idle()
    assert found_in(await database_bytes(db), [NAME, UID]) == []
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Person)) == 1  # alice
        actions = list(await session.scalars(select(AlertAudit.action).order_by(AlertAudit.id)))
        erasure = await session.scalar(select(AlertAudit).where(AlertAudit.action == "erasure"))
    assert actions[-1] == "erasure" and erasure is not None and erasure.actor_id is None
    # A named vote goes with its voter.
    await branch.bot.say()  # what was printed before
    out = await branch.bot.say("/poll results 1")
    assert "0 people have voted" in out and NAME not in out and UID not in out


async def test_someone_joining_is_welcomed_but_not_stored(sqlite_url: str) -> None:
    async with ConsoleSession(make_config(sqlite_url)) as bot:
        assert "Welcome, eve!" in await bot.say(":join eve")
        async with bot.app.db.session() as session:
            names = list(await session.scalars(select(Person.display_name)))
        assert "eve" not in names
        await bot.say(":user eve", "/start")  # using the bot is what stores someone
        async with bot.app.db.session() as session:
            names = list(await session.scalars(select(Person.display_name)))
        assert "eve" in names
