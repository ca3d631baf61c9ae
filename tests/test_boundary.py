"""The organisation's boundary, tried as an outsider would: the reproductions of
issue 14 (each now refused, with nothing stored and nothing delivered outside the
organisation), how a chat joins and leaves, the migration and the config."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select, text

from adapters.discord import SPEC as DISCORD
from adapters.discord import DiscordSettings
from bot.config import ConfigError, NetworkSettings, load
from storage.alerts import Ballot, Dispute, Picket, Strike
from storage.copies import AlertAudit, Broadcast
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Base, Chat, ChatTag, Invite
from storage.polls import Poll
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.api import MANAGE_GUILD, FakeGuild, Person
from tests.fakes.discord.harness import ALICE as DISCORD_ALICE
from tests.fakes.discord.harness import running
from tests.fakes.telegram.api import (
    FakeTelegramAPI,
    bot_added_update,
    callback_update,
    command_update,
    group_chat,
    private_chat,
    user,
)
from tests.support.clock import FakeClock
from tests.support.console import ConsoleSession
from tests.support.telegram import TIMEOUT, TelegramSession
from tests.test_authorization import closed_config

ALICE = user(2001, "Alice")  # an admin, named in the config
SAM = user(2002, "Sam")  # a member of the branch
EVE = user(2003, "Eve")  # made a group of her own and added the bot
STRANGER = user(2004, "Stranger")
BRANCH = group_chat(-2001, "Branch")
EVES = group_chat(-2002, "Eve's group")
OTHER = group_chat(-2003, "Another group")
ALICE_PRIVATE = private_chat(ALICE)
PICKET = '/picket add 1 Gate "B69 4JE" tomorrow 06:00-10:00 --contact "Sam 07700 900123"'
DISPUTE = '/dispute add UNISON Acme "Pay" region:west union:unison'


@pytest.fixture
async def tg(sqlite_url: str, clock: FakeClock) -> AsyncIterator[TelegramSession]:
    config = closed_config(sqlite_url, f"telegram:{ALICE['id']}")
    async with FakeTelegramAPI() as api, TelegramSession(api, config, clock) as bot:
        api.set_admins(EVES["id"], [EVE])
        await bot.say("/join", BRANCH, ALICE)
        await bot.say("/tag region:west union:unison", BRANCH, ALICE)
        await bot.say("/start", BRANCH, SAM)
        await bot.say("/start", EVES, EVE)
        # Refusals are for the asker alone: they reach these private chats.
        await bot.start_privately(ALICE, SAM, EVE)
        yield bot


async def count(bot: TelegramSession, model: type[Any], *where: Any) -> int:
    async with bot.app.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def sent_to(bot: TelegramSession, chat: dict[str, Any], after: int = 0) -> str:
    return "\n".join(str(call.get("text", "")) for call in bot.sent(chat["id"], after=after))


async def test_an_outsiders_chat_admin_cannot_close_record_or_strike_on_the_unions_dispute(
    tg: TelegramSession, clock: FakeClock
) -> None:
    await tg.say(DISPUTE, BRANCH, ALICE)
    await tg.say("/ballot add 1 20/2 27/2 100 --quiet", BRANCH, ALICE)
    mark = tg.api.mark()
    for line in (
        "/dispute close 1",
        "/ballot result 1 60 10 40 --quiet",
        "/ballot add 1 1/3 20/3 100",
        "/strike add 1 12/3 13/3 --to all",
    ):
        answer = await tg.privately(line, EVES, EVE)
        assert "isn't part of Organise bot's organisation yet" in answer
        assert "/join CODE" in answer
    assert sent_to(tg, BRANCH, mark) == ""
    assert await count(tg, Dispute, Dispute.is_open.is_(True)) == 1
    assert await count(tg, Ballot) == 1 and await count(tg, Strike) == 0
    # The real result is not blocked by a false one ("already has its result").
    (answer,) = await tg.say("/ballot result 1 60 40 10 --quiet", BRANCH, ALICE)
    assert "Ballot #1 result" in answer
    assert "Strike" not in await tg.ask("/strikes", BRANCH, SAM)


async def test_tagging_a_self_made_chat_receives_no_pickets_or_alerts(
    tg: TelegramSession,
) -> None:
    answer = await tg.privately("/tag region:west union:unison", EVES, EVE)
    assert "isn't part of" in answer
    assert await count(tg, ChatTag, ChatTag.tag == "union:unison") == 1  # the branch's only
    # Even tags it had before (say, it was taken out since) bring it nothing.
    async with tg.app.db.session() as session:
        eves = await session.scalar(select(Chat).where(Chat.platform_chat_id == str(EVES["id"])))
        assert eves is not None and not eves.approved
        session.add(ChatTag(chat_id=eves.id, tag="region:west"))
    mark = tg.api.mark()
    await tg.say(DISPUTE, BRANCH, ALICE)
    await tg.say(PICKET, BRANCH, ALICE)
    await tg.say("/alert send region:west Members only: meet at 6", BRANCH, ALICE)
    await tg.idle()
    assert "07700 900123" in sent_to(tg, BRANCH, mark)
    assert sent_to(tg, EVES, mark) == ""


async def test_a_strangers_private_chat_sees_no_strikes_ballots_or_pickets(
    tg: TelegramSession,
) -> None:
    await tg.say(DISPUTE, BRANCH, ALICE)
    await tg.say("/strike add 1 12/3 13/3", BRANCH, ALICE)
    await tg.say("/ballot add 1 1/3 20/3 100", BRANCH, ALICE)
    await tg.say(PICKET, BRANCH, ALICE)
    for command in ("/strikes", "/meetings", "/polls"):
        answer = await tg.ask(command, private_chat(STRANGER), STRANGER)
        assert "I don't know you from any of the organisation's chats" in answer
        assert "Gate" not in answer and "Acme" not in answer
    helped = await tg.ask("/help", private_chat(STRANGER), STRANGER)
    assert "/strikes" in helped and "/join" in helped and "/poll " not in helped
    # Sam uses the bot in the branch: privately he sees what reaches it.
    mine = await tg.ask("/strikes", private_chat(SAM), SAM)
    assert "Acme" in mine and "Gate" in mine


async def test_a_role_named_tulo_in_an_outsiders_server_makes_no_tulo(
    sqlite_url: str,
) -> None:
    eve = Person(730000000000000001, "Eve", roles=("TULO", "Admin"))
    outsider = FakeGuild(
        name="Eve's server",
        channels=("lobby",),
        roles={"TULO": 0, "Admin": MANAGE_GUILD},
        system_channel="lobby",
    )
    config = closed_config(sqlite_url, f"discord:{DISCORD_ALICE.user_id}")
    async with FakeDiscord() as fake, running(fake, config, pace=False) as bot:
        union = str(bot.guild.channel_ids["general"])

        async def say(guild: FakeGuild, channel: str, person: Person, line: str) -> list[str]:
            before = len(fake.created)
            bot.gateway.message(guild, channel, person, line)
            await fake.wait_for(lambda: len(fake.created) > before)
            await bot.idle()
            return [m["content"] or m["embeds"][0]["description"] for m in fake.created[before:]]

        greeted = len(fake.created) + 1
        bot.gateway.guild_create(outsider)
        await fake.wait_for(lambda: len(fake.created) >= greeted)
        for line in ("!join", "!tag region:west union:unison", "!" + DISPUTE[1:], "!" + PICKET[1:]):
            await say(bot.guild, "general", DISCORD_ALICE, line)
        await say(bot.guild, "general", DISCORD_ALICE, '!poll "Strike?" "Yes" "No"')
        before = len(fake.created)
        for line in ("!alert send all Strike called off", "!picket cancel 1", "!poll close 1"):
            (answer,) = await say(outsider, "lobby", eve, line)
            assert "isn't part of" in answer
        assert all(m["channel_id"] != union for m in fake.created[before:])
        # Approved later, her server's own "TULO" role still makes her no TULO.
        await say(outsider, "lobby", DISCORD_ALICE, "!join")
        (whoami,) = await say(outsider, "lobby", eve, "!whoami")
        assert "Your role here: organiser" in whoami  # Manage Server, in an approved chat
        (answer,) = await say(outsider, "lobby", eve, "!alert send all Strike called off")
        assert "you don't organise" in answer
        async with bot.app.db.session() as session:
            picket = await session.get(Picket, 1)
            poll = await session.get(Poll, 1)
            assert picket is not None and not picket.cancelled
            assert poll is not None and poll.closed_at is None
            assert await session.scalar(select(func.count()).select_from(Broadcast)) == 1


def test_discord_roles_are_configured_by_server_and_role_id(tmp_path: Any) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[discord]\ntulo_roles = ["123456789012345678:234567890123456789"]\n')
    assert DISCORD.section(load(good, env={})).tulo_roles == [
        "123456789012345678:234567890123456789"
    ]
    assert DiscordSettings().tulo_roles == [] and DiscordSettings().organiser_roles == []
    assert NetworkSettings().open is False
    bad = tmp_path / "bad.toml"
    bad.write_text('[discord]\norganiser_roles = ["Organiser"]\n')
    with pytest.raises(ConfigError, match=r"discord.organiser_roles entry 'Organiser' should be"):
        load(bad, env={})


# --- joining and leaving -------------------------------------------------------------------


async def invite_code(tg: TelegramSession) -> re.Match[str]:
    """Alice asks for a code in the branch: it comes to her privately, not to the group."""
    mark = tg.api.mark()
    tg.api.push(command_update("/invite", BRANCH, ALICE))
    await tg.api.wait_until(lambda: len(tg.sent(ALICE["id"], after=mark)) == 2, TIMEOUT)
    await tg.idle()
    private = sent_to(tg, ALICE_PRIVATE, mark)
    assert "sent you the invite code in a private message" in private
    code = re.search(r"/join ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})", private)
    assert code, private
    assert sent_to(tg, BRANCH, mark) == ""
    return code


async def test_an_invite_code_brings_one_chat_in_once(tg: TelegramSession) -> None:
    code = await invite_code(tg)
    assert "Only TULOs can use /invite" in await tg.privately("/invite", BRANCH, SAM)

    assert "doesn't work" in await tg.privately("/join AAAA-BBBB-CCCC", EVES, EVE)
    assert "needs the invite code" in await tg.privately("/join", EVES, EVE)
    welcome = await tg.ask(f"/join {code[1].lower()}", EVES, EVE)
    assert "This chat is now part of the organisation." in welcome
    assert "Tagged this chat" in await tg.ask("/tag region:east", EVES, EVE)  # admin: organiser

    await tg.say("/start", OTHER, SAM)
    assert "doesn't work" in await tg.privately(f"/join {code[1]}", OTHER, SAM)  # used up
    async with tg.app.db.session() as session:
        invite = await session.scalar(select(Invite))
        assert invite is not None and invite.used_at is not None
        stored = invite.code_hash
    assert code[1] not in stored
    assert stored == hashlib.sha256(code[1].replace("-", "").encode()).hexdigest()


async def test_an_invite_code_expires_after_48_hours(tg: TelegramSession, clock: FakeClock) -> None:
    code = await invite_code(tg)
    clock.advance(hours=48, seconds=1)
    assert "expired" in await tg.privately(f"/join {code[1]}", EVES, EVE)


async def test_a_waiting_chat_is_approved_with_a_button_and_can_be_taken_out(
    tg: TelegramSession,
) -> None:
    pending = await tg.ask("/chats pending", BRANCH, ALICE)
    assert "Eve's group" in pending and "Branch" not in pending
    (message,) = tg.sent(BRANCH["id"])[-1:]
    (button,) = message["reply_markup"]["inline_keyboard"][0]
    tg.api.push(callback_update(button["callback_data"], BRANCH, SAM, query_id="sam"))
    refused = await tg.api.wait_for_call(
        "answerCallbackQuery", lambda c: c["callback_query_id"] == "sam"
    )
    assert refused["text"] == "Only admins and TULOs can approve chats."

    mark = tg.api.mark()
    tg.api.push(callback_update(button["callback_data"], BRANCH, ALICE, query_id="alice"))
    answer = await tg.api.wait_for_call(
        "answerCallbackQuery", lambda c: c["callback_query_id"] == "alice"
    )
    assert answer["text"].startswith("Approved #")
    await tg.wait_sent(EVES["id"], after=mark)
    assert "now part of the organisation" in sent_to(tg, EVES, mark)
    await tg.say("/tag region:west", EVES, EVE)
    listing = await tg.ask("/chats", BRANCH, ALICE)
    assert "Eve's group (telegram) — region:west" in listing

    chat_id = re.search(r"#(\d+) Eve's group", listing)
    assert chat_id
    removed = await tg.say(f"/chats remove {chat_id[1]}", BRANCH, ALICE)
    assert "Removed" in removed[-1]
    assert "isn't part of" in await tg.privately("/tag region:west", EVES, EVE)
    assert await count(tg, ChatTag, ChatTag.chat_id == int(chat_id[1])) == 0


async def test_a_new_chat_is_greeted_with_how_to_join_and_helped_with_what_it_may_use(
    tg: TelegramSession,
) -> None:
    me = user(7000, "Organise Bot")
    mark = tg.api.mark()
    tg.api.push(bot_added_update(OTHER, EVE, me))
    greeting = (await tg.wait_sent(OTHER["id"], after=mark))["text"]
    assert "/join CODE" in greeting
    helped = await tg.ask("/help", OTHER, EVE)
    assert "/join" in helped and "/strikes" not in helped and "/tag" not in helped
    assert "isn't part of" in helped


async def test_a_ballot_result_is_corrected_by_its_recorder_with_an_audit_row(
    tg: TelegramSession,
) -> None:
    await tg.say(DISPUTE, BRANCH, ALICE)
    await tg.say("/ballot add 1 20/2 27/2 100 --quiet", BRANCH, ALICE)
    assert "no result yet" in await tg.privately("/ballot correct 1 60 40 10", BRANCH, ALICE)
    await tg.say("/ballot result 1 60 10 40", BRANCH, ALICE)
    await tg.idle()
    assert "20% voted yes" in sent_to(tg, BRANCH)
    mark = tg.api.mark()
    answer = await tg.ask("/ballot correct 1 60 40 10", BRANCH, ALICE)
    assert "result corrected" in answer and "was turnout 60, yes 10, no 40" in answer
    assert "Updating its announcement in 1 chats." in answer
    await tg.idle()
    (edit,) = tg.api.calls_to("editMessageText", mark)
    assert "80% voted yes" in edit["text"]
    async with tg.app.db.session() as session:
        ballot = await session.get(Ballot, 1)
        assert ballot is not None and (ballot.yes_votes, ballot.no_votes) == (40, 10)
        (audit,) = await session.scalars(
            select(AlertAudit).where(
                AlertAudit.subject == "ballot #1", AlertAudit.action == "correct"
            )
        )
        assert audit.action == "correct" and audit.actor_id is not None
        assert audit.broadcast_id is not None and audit.chat_count == 1
        assert audit.detail == "result was turnout 60, yes 10, no 40; now turnout 60, yes 40, no 10"


async def test_an_open_network_approves_every_chat(sqlite_url: str) -> None:
    config = closed_config(sqlite_url, f"telegram:{ALICE['id']}")
    config = dataclasses.replace(config, network=NetworkSettings(open=True))
    async with FakeTelegramAPI() as api, TelegramSession(api, config) as bot:
        api.set_admins(EVES["id"], [EVE])
        assert "Tagged this chat" in await bot.ask("/tag region:east", EVES, EVE)


async def test_console_chats_are_approved_as_they_first_speak(sqlite_url: str) -> None:
    config = closed_config(sqlite_url, "console:alice")
    async with ConsoleSession(config) as console:
        assert "Tagged this chat" in await console.say(":chat new-branch", "/tag region:x")


# --- the migration ------------------------------------------------------------------------


BEFORE = ("0002", "alerts_0001", "meetings_0001", "polls_0001")


async def test_the_migration_approves_every_chat_already_known(database_url: str) -> None:
    database = Database(database_url)
    try:
        if not database.is_sqlite:  # the shared PostgreSQL database: start it afresh
            async with database.engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        for head in BEFORE:
            await upgrade(database, head)
        async with database.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO chats (platform, platform_chat_id, title, kind, active, "
                    "inactive_reason, created_at) VALUES ('telegram', '-1', 'Old', 'group', "
                    ":yes, '', :now)"
                ),
                {"yes": True, "now": FakeClock().now()},
            )
        await upgrade(database)
        async with database.session() as session:
            (chat,) = await session.scalars(select(Chat))
            assert chat.approved

        def differences(connection: Connection) -> list[Any]:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "target_metadata": Base.metadata}
            )
            found = compare_metadata(context, Base.metadata)
            return [d for d in found if re.search(r"invites|approved|result_by|ballots", repr(d))]

        async with database.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await database.close()


async def test_a_forged_button_in_a_self_made_chat_does_nothing(tg: TelegramSession) -> None:
    """A modified client can send any button data from a chat of its own."""
    for number, data in enumerate(("chat-ok:2", "alert-send:1", "rsvp:1:x:y")):
        tg.api.push(callback_update(data, EVES, EVE, query_id=f"q{number}"))
        answer = await tg.api.wait_for_call(
            "answerCallbackQuery", lambda c, q=f"q{number}": c["callback_query_id"] == q
        )
        assert "isn't part of" in answer["text"]
    async with tg.app.db.session() as session:
        eves = await session.scalar(select(Chat).where(Chat.platform_chat_id == str(EVES["id"])))
        assert eves is not None and not eves.approved


async def test_a_chat_taken_out_gets_no_more_meeting_reminders(
    sqlite_url: str, clock: FakeClock
) -> None:
    config = closed_config(sqlite_url, "console:alice")
    async with ConsoleSession(config, clock) as bot:
        await bot.say(":chat depot", "/tag region:b", ":chat branch", "/tag region:a")
        added = await bot.say(
            '/meeting add "GC" "5/3 19:00" "Hall" --to "region:a or region:b" --remind 1h'
        )
        assert "[depot] 📅 GC" in added and "[branch] 📅 GC" in added, added
        listing = await bot.say("/chats")
        depot = re.search(r"#(\d+) depot", listing)
        assert depot, listing
        assert "Removed" in await bot.say(f"/chats remove {depot[1]}")
        clock.advance(days=3, hours=9)  # Thu 5 March, 18:00 London: an hour before
        await bot.app.timer.run_due()
        reminded = await bot.say()
        assert "[branch]" in reminded and "GC" in reminded, reminded
        assert "[depot]" not in reminded, reminded
