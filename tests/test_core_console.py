"""The core's commands, driven through the console adapter as a person would."""

from __future__ import annotations

import asyncio
import io
import tempfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.console import ConsoleAdapter, ConsoleSettings, files_folder
from bot import core
from bot.context import Context
from bot.outbox import Sender
from bot.registry import Command
from bot.text import rich
from bot.types import Attachment, Content, Delivery, Op
from storage.chats import register_chat
from storage.models import ChatTag, Person, RoleGrant
from tests.support.config import make_config
from tests.support.console import ConsoleSession


@pytest.fixture
async def bot(sqlite_url: str):
    async with ConsoleSession(make_config(sqlite_url)) as session:
        yield session


async def test_help_lists_commands_and_explains_one(bot: ConsoleSession) -> None:
    out = await bot.say("/help")
    assert "/whoami — Show who the bot thinks you are" in out
    assert "/tag — Tag this chat" in out
    out = await bot.say("/help grant")
    assert "Usage: /grant <person> <role>" in out
    assert 'Example: /grant "Sam Jones" organiser' in out
    assert "Needs the TULO role." in out


async def test_help_hides_commands_a_member_cannot_use(bot: ConsoleSession) -> None:
    out = await bot.say(":user sam", "/help")
    assert "/whoami" in out
    assert "/grant" not in out


async def test_whoami_is_private_and_shows_role(bot: ConsoleSession) -> None:
    out = await bot.say("/whoami")
    assert "(only you) You are alice" in out
    assert "Id: console:alice" in out
    assert "Your role here: admin" in out


async def test_unknown_command_suggests_the_closest(bot: ConsoleSession) -> None:
    out = await bot.say("/hlep")
    assert "I don't know /hlep. Did you mean /help?" in out
    assert "Traceback" not in out


async def test_bad_argument_says_what_was_expected_with_example(bot: ConsoleSession) -> None:
    out = await bot.say("/grant sam boss")
    assert "role should be one of organiser, tulo, admin, not “boss”" in out
    out = await bot.say("/grant")
    assert "/grant needs person" in out and "Example:" in out
    out = await bot.say('/tag "unclosed')
    assert "A quote is not closed" in out
    out = await bot.say("/help --verbose")
    assert "/help has no option --verbose" in out


async def test_roles_are_checked_and_granted(bot: ConsoleSession) -> None:
    out = await bot.say(":user sam", "/tag region:cannock")
    assert "Only organisers can use /tag" in out
    await bot.say(":user alice")
    out = await bot.say("/grant sam organiser")
    assert "sam is now organiser in this chat." in out
    out = await bot.say(":user sam", "/tag region:cannock", "/whoami")
    assert "Tagged this chat: region:cannock" in out
    assert "Your role here: organiser" in out
    # organiser holds only in the chat where it was granted
    out = await bot.say(":chat other", "/tag region:elsewhere")
    assert "Only organisers" in out
    # organisers cannot hand out roles
    out = await bot.say(":chat branch", "/grant sam tulo")
    assert "Only TULOs can use /grant" in out
    out = await bot.say(":user alice", "/roles")
    assert "sam (console:sam) — organiser" in out
    out = await bot.say("/revoke sam organiser", ":user sam", "/whoami")
    assert "sam is no longer organiser in this chat." in out
    assert "Your role here: member" in out


async def test_platform_chat_admins_are_organisers(bot: ConsoleSession) -> None:
    out = await bot.say(":user dana", ":admin on", "/tag union:unison")
    assert "Tagged this chat: union:unison" in out


async def test_grant_finds_people_by_name_or_id_and_explains_misses(bot: ConsoleSession) -> None:
    out = await bot.say("/grant nobody organiser")
    assert "Nobody called “nobody” has spoken in this chat yet" in out
    await bot.say(":user Sam", "/start", ":user alice")
    out = await bot.say("/grant console:sam tulo")
    assert "Sam is now tulo everywhere." in out
    out = await bot.say("/grant console:sam tulo")
    assert "already tulo" in out


async def test_tags_validate_and_list(bot: ConsoleSession) -> None:
    out = await bot.say("/tags")
    assert "no tags yet" in out
    out = await bot.say("/tag Region")
    assert "“region” is not a tag" in out
    out = await bot.say("/tag region:west-midlands union:unison", "/tags")
    assert "region:west-midlands union:unison" in out
    out = await bot.say("/untag union:unison", "/tags")
    assert "Removed 1 tag." in out
    assert "union:unison" not in out.split("Tags of this chat")[1]


async def test_forgetme_erases_the_person_and_their_roles(bot: ConsoleSession) -> None:
    await bot.say("/grant alice organiser")
    await bot.say(":user sam", "/start")
    out = await bot.say(":user alice", "/forgetme")
    assert "[1] Yes, forget me" in out
    out = await bot.say(":user sam", ":press 1")
    assert "isn't yours or has expired" in out
    out = await bot.say(":user alice", ":press 1")
    assert "I have forgotten you" in out
    async with bot.app.db.session() as session:
        names = set(await session.scalars(select(Person.platform_user_id)))
        grants = await session.scalar(select(func.count()).select_from(RoleGrant))
    assert names == {"sam"}
    assert grants == 0


async def test_a_second_command_needs_no_registering(
    bot: ConsoleSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    registered: list[str] = []

    async def counting(session: Any, ref: Any, now: Any, **options: Any) -> Any:
        registered.append(ref.chat_id)
        return await register_chat(session, ref, now, **options)

    monkeypatch.setattr(core, "register_chat", counting)
    await bot.say("/whoami", "/help", ":user sam", "/help", "/whoami")
    assert len(registered) == 2  # once for alice, once for sam


async def test_a_reply_goes_to_the_sender_already_claimed(
    bot: ConsoleSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def claim_nothing(_sender: Sender, _limit: int) -> list[Any]:
        return []

    await bot.say("/whoami")  # rows before the patch are claimed as usual
    monkeypatch.setattr(Sender, "_claim", claim_nothing)
    out = await bot.say("/whoami", "/hlep")
    assert out.count("You are alice") == 1  # the answer, and the apology for a typo
    assert "I don't know /hlep" in out


async def test_someone_forgotten_is_registered_afresh_when_they_come_back(
    bot: ConsoleSession,
) -> None:
    await bot.say("/whoami")  # alice's chat and person are now remembered by the core
    await bot.say("/forgetme", ":press 1")
    out = await bot.say("/whoami")
    assert "You are alice" in out
    async with bot.app.db.session() as session:
        names = set(await session.scalars(select(Person.platform_user_id)))
    assert names == {"alice"}


async def test_stale_button_gets_a_friendly_answer(bot: ConsoleSession) -> None:
    out = await bot.say("/forgetme", ":press 1", ":press 1")
    assert "I have forgotten you" in out
    assert "isn't yours or has expired" in out  # the old button names a person who is gone


async def test_a_failing_handler_leaves_no_half_written_rows(bot: ConsoleSession) -> None:
    async def tag_then_fail(ctx: Context) -> list:
        ctx.session.add(ChatTag(chat_id=ctx.chat.id, tag="half:written"))
        await ctx.session.flush()
        raise RuntimeError("boom")

    bot.app.registry.add(Command("explode", "fails after writing", tag_then_fail))
    out = await bot.say("/explode")
    assert "Sorry, something went wrong on my side" in out
    assert "Traceback" not in out and "boom" not in out
    async with bot.app.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(ChatTag)) == 0


async def test_non_commands_get_a_hint(bot: ConsoleSession) -> None:
    out = await bot.say("hello?")
    assert "Try /help" in out


async def test_concurrent_commands_never_see_a_locked_database(bot: ConsoleSession) -> None:
    await asyncio.gather(*(bot.console.feed(f"/tag n:{i}") for i in range(40)))
    async with asyncio.timeout(10):
        await bot.app.senders["console"].idle()
    out = await bot.say("/tags")
    assert all(f"n:{i}" in out for i in range(40))
    assert "Sorry" not in bot.output.getvalue()


async def test_a_file_is_saved_where_its_line_says(tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleAdapter(ConsoleSettings(), out=out, files=tmp_path / "files")
    data = b"BEGIN:VCALENDAR\r\n" + b"x" * 1212
    file = Attachment("../gc-meeting.ics", data, "text/calendar")  # kept in its folder

    await console.deliver(Delivery(Op.SEND, "branch", Content(rich("📅 GC"), attachment=file), "n"))

    path = tmp_path / "files" / "gc-meeting.ics"
    assert (
        out.getvalue() == f"[branch] 📅 GC\n         📎 gc-meeting.ics (1.2 KB) saved to {path}\n"
    )
    assert path.read_bytes() == data


def test_files_go_beside_the_sqlite_database_unless_configured(tmp_path: Path) -> None:
    default = ConsoleSettings()
    assert files_folder(default, f"sqlite+aiosqlite:///{tmp_path}/organise.db") == (
        tmp_path / "console-files"
    )
    assert files_folder(default, "postgresql+asyncpg://organise@127.0.0.1/organise").parent == (
        Path(tempfile.gettempdir())
    )
    chosen = ConsoleSettings(files=str(tmp_path / "mine"))
    assert files_folder(chosen, "sqlite+aiosqlite:///organise.db") == tmp_path / "mine"
