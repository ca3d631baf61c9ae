"""The whole bot on Telegram: the real App, core, outbox and python-telegram-bot,
over real HTTP to the fake Bot API (tests/fakes/telegram/api.py) — including
``organise-bot run`` itself as a subprocess."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot import private_answers
from bot.config import Config, RolesSettings
from bot.context import STALE_BUTTON
from bot.core import SORRY
from bot.outbox import Status
from bot.registry import Role
from storage.chats import find_chat, find_person
from storage.db import Database
from storage.models import Chat, OutboxRow
from tests.fakes.telegram.api import (
    JSON,
    FakeTelegramAPI,
    bot_added_update,
    bot_kicked_update,
    callback_update,
    channel_chat,
    channel_post_update,
    chat_member_update,
    command_update,
    forum_chat,
    group_chat,
    in_topic,
    left_member_update,
    migrate_update,
    my_chat_member_update,
    new_members_update,
    private_chat,
    user,
    visible_text,
)
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.telegram import TelegramSession, addressed

# PTB's own RetryAfter constructor reads its deprecated int ``retry_after``.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)

ALICE = user(201, "Alice")  # an admin, from the config
BOB = user(202, "Bob", "Crow")
DANA = user(203, "Dana", "Smith")
SMITH = user(204, "Smith & Sons <Depot>")
DEPOT = group_chat(-1001234, "Depot branch")
OLD_GROUP = group_chat(-4321, "Old branch", kind="group")
SUPERGROUP = group_chat(-1009999, "Old branch")


def config_for(url: str) -> Config:
    return dataclasses.replace(
        make_config(url), roles=RolesSettings(admins=[f"telegram:{ALICE['id']}"])
    )


@pytest.fixture
async def tg(sqlite_url: str, clock: FakeClock) -> AsyncIterator[TelegramSession]:
    async with FakeTelegramAPI() as api, TelegramSession(api, config_for(sqlite_url), clock) as bot:
        yield bot


@pytest.fixture
async def tg_both(database: Database, clock: FakeClock) -> AsyncIterator[TelegramSession]:
    """Like ``tg``, once on SQLite and once on PostgreSQL."""
    async with (
        FakeTelegramAPI() as api,
        TelegramSession(api, config_for(database.url), clock) as bot,
    ):
        yield bot


async def outbox_row(tg: TelegramSession, row_id: int | None) -> OutboxRow:
    assert row_id is not None
    async with tg.app.db.session() as session:
        row = await session.get(OutboxRow, row_id)
    assert row is not None
    return row


async def stored_chat(tg: TelegramSession, chat: JSON) -> Chat:
    async with tg.app.db.session() as session:
        found = await find_chat(session, "telegram", str(chat["id"]))
    assert found is not None
    return found


# --- commands ------------------------------------------------------------------------


async def test_every_command_addressed_to_the_bot_in_a_group_is_answered(
    tg: TelegramSession,
) -> None:
    for command in tg.app.registry:
        line = addressed(command.example or f"/{command.name}")

        answers = await tg.say(line, DEPOT, ALICE)

        assert answers, line
        assert SORRY not in answers, line


async def test_core_commands_give_their_answers_in_a_group(tg: TelegramSession) -> None:
    start = await tg.ask("/start@OrganiseBot", DEPOT, ALICE)
    assert start.startswith("Hello Alice!\nI'm Organise bot")
    assert tg.sent(DEPOT["id"])[0]["text"].startswith("Hello <b>Alice</b>!")
    await tg.start_privately(ALICE, BOB)

    # Answers for the asker alone reach their private chat, not the group.
    assert await tg.privately("/whoami", DEPOT, ALICE) == (
        "You are Alice\nId: telegram:201\nYour role here: admin"
    )
    assert await tg.privately("/whoami@OrganiseBot", DEPOT, BOB) == (
        "You are Bob Crow\nId: telegram:202\nYour role here: member"
    )
    assert await tg.privately("/tag region:cannock", DEPOT, BOB) == (
        "Only organisers can use /tag. Ask an admin to /grant you the role if you need it."
    )
    assert await tg.ask('/grant "Bob Crow" organiser', DEPOT, ALICE) == (
        "Bob Crow is now organiser in this chat."
    )
    assert await tg.ask("/tag region:cannock union:unison", DEPOT, BOB) == (
        "Tagged this chat: region:cannock union:unison"
    )
    assert await tg.ask("/untag@OrganiseBot union:unison", DEPOT, BOB) == "Removed 1 tag."
    assert await tg.ask("/tags", DEPOT, BOB) == "Tags of this chat\nregion:cannock"
    roles = await tg.ask("/roles", DEPOT, BOB)
    assert "• Bob Crow (telegram:202) — organiser" in roles.split("\n")
    assert "• telegram:201 — admin (from config)" in roles.split("\n")
    assert await tg.ask('/revoke "Bob Crow" organiser', DEPOT, ALICE) == (
        "Bob Crow is no longer organiser in this chat."
    )
    assert await tg.privately("/hepl@OrganiseBot", DEPOT, BOB) == (
        "I don't know /hepl. Did you mean /help? Send /help for the list."
    )
    help_for_bob = await tg.ask("/help@OrganiseBot", DEPOT, BOB)
    assert "/whoami — Show who the bot thinks you are and your role" in help_for_bob
    assert "/grant" not in help_for_bob
    help_for_alice = await tg.ask("/help", DEPOT, ALICE)
    assert all(f"/{command.name} — " in help_for_alice for command in tg.app.registry)
    assert (await tg.ask("/help grant", DEPOT, BOB)).startswith("/grant — Give someone a role")


async def test_commands_for_another_bot_are_left_alone(tg: TelegramSession) -> None:
    mark = tg.api.mark()
    tg.api.push(command_update("/help@SomeOtherBot", DEPOT, ALICE))

    await tg.settled()

    assert tg.sent(DEPOT["id"], after=mark) == []


async def test_unknown_commands_are_answered_only_when_addressed_to_the_bot(
    tg: TelegramSession,
) -> None:
    mark = tg.api.mark()
    tg.api.push(command_update("/warn Bob", DEPOT, ALICE))  # another bot's, most likely
    await tg.settled()
    assert tg.sent(DEPOT["id"], after=mark) == []

    await tg.start_privately(ALICE)
    refusal = await tg.privately("/warn@OrganiseBot Bob", DEPOT, ALICE)
    assert refusal.startswith("I don't know /warn.")
    assert (await tg.ask("/warn", private_chat(BOB), BOB)).startswith("I don't know /warn.")
    assert (await tg.ask("/tags", DEPOT, ALICE)).startswith("This chat has no tags yet.")


async def test_command_in_a_private_chat(tg: TelegramSession) -> None:
    answer = await tg.ask("/whoami", private_chat(ALICE), ALICE)

    assert answer == "You are Alice\nId: telegram:201\nYour role here: admin"
    assert tg.api.calls_to("getChatAdministrators") == []


# --- answers for the asker alone --------------------------------------------------------


async def test_a_private_answer_asked_in_a_group_reaches_only_the_askers_private_chat(
    tg: TelegramSession,
) -> None:
    await tg.start_privately(BOB)

    answer = await tg.privately("/whoami@OrganiseBot", DEPOT, BOB)

    assert answer == "You are Bob Crow\nId: telegram:202\nYour role here: member"


async def test_someone_without_a_private_chat_gets_a_public_hint_with_a_start_link(
    tg: TelegramSession,
) -> None:
    hint = await tg.ask("/whoami@OrganiseBot", DEPOT, DANA)

    assert hint == private_answers.HINT
    assert "Dana" not in hint and "telegram:203" not in hint
    [[button]] = tg.sent(DEPOT["id"])[-1]["reply_markup"]["inline_keyboard"]
    assert button == {
        "text": private_answers.START_LABEL,
        "url": f"https://t.me/OrganiseBot?start={private_answers.START_PAYLOAD}",
    }
    assert tg.sent(DANA["id"]) == []


async def test_the_start_link_opens_a_private_chat_where_asking_again_works(
    tg: TelegramSession,
) -> None:
    await tg.ask("/whoami@OrganiseBot", DEPOT, DANA)  # the hint
    link = f"/start {private_answers.START_PAYLOAD}"  # what tapping the link sends

    greeting = await tg.ask(link, private_chat(DANA), DANA)
    answer = await tg.privately("/whoami@OrganiseBot", DEPOT, DANA)

    assert greeting.startswith("Hello Dana Smith!")
    assert answer == "You are Dana Smith\nId: telegram:203\nYour role here: member"


async def test_group_admins_are_organisers(tg: TelegramSession) -> None:
    tg.api.set_admins(DEPOT["id"], [BOB])

    assert await tg.ask("/tag region:cannock", DEPOT, BOB) == "Tagged this chat: region:cannock"


async def test_command_menus_show_each_command_to_those_who_may_use_it(
    tg: TelegramSession,
) -> None:
    menus = {
        json.dumps(call["scope"], sort_keys=True): [c["command"] for c in call["commands"]]
        for call in tg.api.calls_to("setMyCommands")
    }
    registry = list(tg.app.registry)

    def scope(kind: str, **more: int) -> str:
        return json.dumps({"type": kind, **more}, sort_keys=True)

    members = [c.name for c in registry if c.lowest_role is Role.MEMBER]
    organisers = [c.name for c in registry if c.lowest_role <= Role.ORGANISER]
    assert menus == {
        scope("default"): members,
        scope("all_private_chats"): members,
        scope("all_group_chats"): members,
        scope("all_chat_administrators"): organisers,
        scope("chat", chat_id=ALICE["id"]): [c.name for c in registry],  # a configured admin
    }
    assert {"meeting", "dispute", "help"} <= set(members)
    assert {"tag", "alert", "grant"}.isdisjoint(members)
    assert "alert" in organisers and "grant" not in organisers


async def test_user_text_arrives_escaped_and_intact(tg: TelegramSession) -> None:
    await tg.start_privately(ALICE)
    refusal = await tg.privately('/grant "Smith & Sons <Depot>" organiser', DEPOT, ALICE)
    assert refusal.startswith("Nobody called “Smith & Sons <Depot>” has spoken in this chat yet.")

    await tg.ask("/whoami", DEPOT, SMITH)
    granted = await tg.ask('/grant "Smith & Sons <Depot>" organiser', DEPOT, ALICE)

    assert granted == "Smith & Sons <Depot> is now organiser in this chat."
    (call,) = tg.sent(DEPOT["id"])[-1:]
    assert call["parse_mode"] == "HTML"
    assert call["text"] == ("<b>Smith &amp; Sons &lt;Depot&gt;</b> is now organiser in this chat.")


# --- buttons -------------------------------------------------------------------------


async def test_forgetme_confirm_button_answers_with_the_cores_notice(
    tg: TelegramSession,
) -> None:
    await tg.start_privately(BOB)
    await tg.privately("/forgetme", DEPOT, BOB)
    [[button]] = tg.sent(BOB["id"])[-1]["reply_markup"]["inline_keyboard"]
    async with tg.app.db.session() as session:
        bob = await find_person(session, "telegram", str(BOB["id"]))
    assert bob is not None
    assert button["callback_data"] == f"forget:{bob.id}"

    tg.api.push(callback_update(button["callback_data"], DEPOT, ALICE, query_id="alice"))
    tg.api.push(callback_update(button["callback_data"], private_chat(BOB), BOB, query_id="bob"))
    not_hers = await tg.api.wait_for_call(
        "answerCallbackQuery", lambda c: c["callback_query_id"] == "alice"
    )
    done = await tg.api.wait_for_call(
        "answerCallbackQuery", lambda c: c["callback_query_id"] == "bob"
    )

    assert not_hers["text"].startswith("That button isn't yours")
    assert done["text"].startswith("Done: I have forgotten you.")
    async with tg.app.db.session() as session:
        assert await find_person(session, "telegram", str(BOB["id"])) is None


async def test_a_button_answer_quoting_a_long_title_fits_telegrams_200(
    tg: TelegramSession,
) -> None:
    title = "Annual general meeting " + "x" * 170  # within the 200 a title may have
    await tg.ask(f'/meeting add "{title}" "tomorrow 19:00" "Hall"', DEPOT, ALICE)
    [[going, *_]] = tg.sent(DEPOT["id"])[-1]["reply_markup"]["inline_keyboard"]
    tg.api.push(callback_update(going["callback_data"], DEPOT, BOB, query_id="long"))

    answer = await tg.api.wait_for_call("answerCallbackQuery")

    assert answer["text"].startswith("Noted: going — Annual general meeting xxx")
    assert len(answer["text"]) == 200 and answer["text"].endswith("…")


async def test_stale_button_gets_a_friendly_answer(tg: TelegramSession) -> None:
    tg.api.push(callback_update("vanished:7", DEPOT, ALICE, query_id="stale"))

    answer = await tg.api.wait_for_call("answerCallbackQuery")

    assert answer == {"callback_query_id": "stale", "text": STALE_BUTTON}


async def test_a_forum_topic_has_its_own_tags_answers_and_announcements(
    tg: TelegramSession,
) -> None:
    forum = forum_chat(-1005555, "Depot branch")
    pickets = tg.api.open_topic(forum, 7, "Pickets")
    mark = tg.api.mark()

    tg.api.push(in_topic(command_update("/tag area:depot", forum, ALICE), pickets))
    reply = await tg.wait_sent(forum["id"], after=mark)
    assert visible_text(reply["text"]) == "Tagged this chat: area:depot"
    assert reply["message_thread_id"] == "7"  # answered in the topic it was asked in

    general = await tg.ask("/tags", forum, ALICE)
    assert general.startswith("This chat has no tags yet.")  # General is the group

    mark = tg.api.mark()
    await tg.say("/alert send area:depot Picket at the gates, 6am", private_chat(ALICE), ALICE)
    announced = await tg.wait_sent(forum["id"], after=mark)
    assert announced["message_thread_id"] == "7"
    assert "Picket at the gates, 6am" in visible_text(announced["text"])
    topic = await stored_chat(tg, {"id": "-1005555/7"})
    assert topic.title == "Depot branch — Pickets"


async def test_a_channel_is_an_announcement_target_its_admins_tag(tg: TelegramSession) -> None:
    news = channel_chat(-1007777, "Branch news")
    mark = tg.api.mark()
    tg.api.push(
        my_chat_member_update(news, ALICE, tg.api.bot_user, "left", "administrator"),
        channel_post_update("Our first post", news),
    )
    await tg.settled()
    assert tg.sent(news["id"], after=mark) == []  # no greeting: readers cannot answer
    assert (await stored_chat(tg, news)).kind == "channel"

    mark = tg.api.mark()
    tg.api.push(channel_post_update("/tag union:unison", news))
    tagged = await tg.wait_sent(news["id"], after=mark)
    assert visible_text(tagged["text"]) == "Tagged this chat: union:unison"

    mark = tg.api.mark()
    await tg.say("/alert send union:unison Ballot result tonight", private_chat(ALICE), ALICE)
    announced = await tg.wait_sent(news["id"], after=mark)
    assert "Ballot result tonight" in visible_text(announced["text"])


# --- chat life-cycle -----------------------------------------------------------------


async def test_bot_added_to_a_group_greets_it(tg: TelegramSession) -> None:
    tg.api.push(bot_added_update(DEPOT, ALICE, tg.api.bot_user))

    greeting = visible_text((await tg.wait_sent(DEPOT["id"]))["text"])

    assert greeting.startswith("Hello! I'm Organise bot.")
    assert greeting.endswith("Send /help to see what I can do.")
    assert (await stored_chat(tg, DEPOT)).active


async def test_member_joining_is_welcomed_and_stored_only_once_they_use_the_bot(
    tg: TelegramSession,
) -> None:
    tg.api.push(new_members_update(DEPOT, ALICE, [DANA]))
    welcome = visible_text((await tg.wait_sent(DEPOT["id"]))["text"])
    assert welcome.startswith("Welcome, Dana Smith!")
    await tg.settled()

    grant = '/grant "Dana Smith" organiser'
    await tg.start_privately(ALICE)
    assert (await tg.privately(grant, DEPOT, ALICE)).startswith("Nobody called “Dana Smith”")
    await tg.ask("/start", DEPOT, DANA)
    assert await tg.ask(grant, DEPOT, ALICE) == "Dana Smith is now organiser in this chat."


async def test_a_join_told_twice_is_welcomed_once(tg: TelegramSession) -> None:
    mark = tg.api.mark()
    tg.api.push(
        chat_member_update(DEPOT, DANA, DANA, "left", "member"),
        new_members_update(DEPOT, DANA, [DANA]),
    )
    await tg.settled()
    await tg.idle()

    (welcome,) = tg.sent(DEPOT["id"], after=mark)
    assert visible_text(welcome["text"]).startswith("Welcome, Dana Smith!")


async def test_someone_who_left_is_no_longer_a_member(tg: TelegramSession) -> None:
    tg.api.push(new_members_update(DEPOT, ALICE, [DANA]))
    tg.api.push(chat_member_update(DEPOT, DANA, DANA, "member", "left"))
    tg.api.push(left_member_update(DEPOT, DANA, DANA))
    await tg.start_privately(ALICE)

    assert (await tg.privately('/grant "Dana Smith" organiser', DEPOT, ALICE)).startswith(
        "Nobody called “Dana Smith” has spoken in this chat yet."
    )


async def test_a_person_who_blocks_the_bot_is_sent_nothing_until_they_unblock(
    tg_both: TelegramSession,
) -> None:
    tg, api = tg_both, tg_both.api
    dana = private_chat(DANA)
    await tg.ask("/whoami", dana, DANA)

    api.push(my_chat_member_update(dana, DANA, api.bot_user, "member", "kicked"))
    await tg.settled()

    assert await tg.enqueue([dana], "Meeting tonight") == [None]
    chat = await stored_chat(tg, dana)
    assert (chat.active, chat.inactive_reason) == (False, "the person blocked the bot")

    mark = api.mark()
    api.push(my_chat_member_update(dana, DANA, api.bot_user, "kicked", "member"))
    await tg.settled()
    assert (await stored_chat(tg, dana)).active
    assert tg.sent(DANA["id"], after=mark) == []  # no greeting: they know the bot
    (row_id,) = await tg.enqueue([dana], "Meeting tonight")
    assert row_id is not None
    await tg.wait_sent(DANA["id"], after=mark)


async def test_kicked_bot_sends_nothing_more_to_the_group(
    tg_both: TelegramSession, clock: FakeClock
) -> None:
    tg, api = tg_both, tg_both.api
    await tg.ask("/tags", DEPOT, ALICE)
    api.fail_retry_after("sendMessage", 30, chat_id=DEPOT["id"])
    mark = api.mark()
    (waiting,) = await tg.enqueue([DEPOT], "Picket at the depot, 6am")
    await api.wait_for_call("sendMessage", after=mark)
    await tg.idle()

    api.push(bot_kicked_update(DEPOT, ALICE, api.bot_user))
    await tg.settled()
    clock.advance(seconds=31)

    assert await tg.enqueue([DEPOT], "Another message") == [None]
    await tg.idle()
    row = await outbox_row(tg, waiting)
    assert (row.status, row.error) == (
        Status.FAILED,
        "chat inactive: the bot was removed from the chat",
    )
    chat = await stored_chat(tg, DEPOT)
    assert not chat.active
    assert tg.sent(DEPOT["id"], after=mark) == []


async def test_a_send_refused_as_kicked_stops_all_sending_there(
    tg_both: TelegramSession,
) -> None:
    tg, api = tg_both, tg_both.api
    await tg.ask("/tags", DEPOT, ALICE)
    api.fail_kicked("sendMessage", chat_id=DEPOT["id"], times=None)
    mark = api.mark()

    (refused,) = await tg.enqueue([DEPOT], "Picket at the depot, 6am")
    await api.wait_for_call("sendMessage", after=mark)
    await tg.idle()

    assert await tg.enqueue([DEPOT], "Another message") == [None]
    row = await outbox_row(tg, refused)
    assert (row.status, row.error) == (
        Status.FAILED,
        "Forbidden: bot was kicked from the group chat",
    )
    chat = await stored_chat(tg, DEPOT)
    assert (chat.active, chat.inactive_reason) == (
        False,
        "Forbidden: bot was kicked from the group chat",
    )
    assert len(api.calls_to("sendMessage", after=mark)) == 1


async def test_group_upgraded_while_sending_gets_the_message_at_its_new_id(
    tg_both: TelegramSession,
) -> None:
    tg, api = tg_both, tg_both.api
    await tg.ask("/tag region:cannock", OLD_GROUP, ALICE)
    api.fail_migrated("sendMessage", SUPERGROUP["id"], chat_id=OLD_GROUP["id"])
    mark = api.mark()

    api.push(command_update("/tags", OLD_GROUP, ALICE))
    delivered = await tg.wait_sent(SUPERGROUP["id"], after=mark)

    (refused,) = api.calls_to("sendMessage", after=mark)[:1]
    assert refused["chat_id"] == str(OLD_GROUP["id"])
    assert delivered["text"] == refused["text"]
    assert visible_text(delivered["text"]) == "Tags of this chat\nregion:cannock"
    await tg.idle()
    assert len(api.calls_to("sendMessage", after=mark)) == 2
    assert (await stored_chat(tg, SUPERGROUP)).active
    assert await tg.ask("/tags", SUPERGROUP, ALICE) == "Tags of this chat\nregion:cannock"


async def test_group_upgrade_notice_moves_the_chat(tg: TelegramSession) -> None:
    await tg.ask("/tag region:cannock", OLD_GROUP, ALICE)

    tg.api.push(migrate_update(OLD_GROUP, ALICE, SUPERGROUP["id"]))
    await tg.settled()

    assert await tg.ask("/tags", SUPERGROUP, ALICE) == "Tags of this chat\nregion:cannock"
    async with tg.app.db.session() as session:
        assert await find_chat(session, "telegram", str(OLD_GROUP["id"])) is None


async def test_retry_after_is_waited_exactly_then_delivered(
    tg_both: TelegramSession, clock: FakeClock
) -> None:
    tg, api = tg_both, tg_both.api
    await tg.ask("/tags", DEPOT, ALICE)
    api.fail_retry_after("sendMessage", 7, chat_id=DEPOT["id"])
    mark = api.mark()

    (row_id,) = await tg.enqueue([DEPOT], "Picket at the depot, 6am")
    await api.wait_for_call("sendMessage", after=mark)
    await tg.idle()

    row = await outbox_row(tg, row_id)
    assert row.status == Status.PENDING
    assert row.next_attempt_at == clock.now() + timedelta(seconds=7)
    clock.advance(seconds=6.999)
    await tg.idle()
    assert tg.sent(DEPOT["id"], after=mark) == []

    clock.advance(seconds=0.001)
    delivered = await tg.wait_sent(DEPOT["id"], after=mark)
    await tg.idle()

    assert visible_text(delivered["text"]) == "Picket at the depot, 6am"
    assert (await outbox_row(tg, row_id)).status == Status.SENT
    assert len(api.calls_to("sendMessage", after=mark)) == 2


# --- organise-bot run ----------------------------------------------------------------

BIN = Path(sys.executable).with_name("organise-bot")
# Shaped like a token (bot id, colon, secret) but not like a real one, whose secret
# part is 35 characters.
CLI_TOKEN = "123:fake-token-for-the-cli-test"


async def test_organise_bot_run_serves_telegram_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with FakeTelegramAPI(CLI_TOKEN) as api:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[telegram]\nbase_url = "{api.base_url}"\n\n'
            '[console]\nenabled = "no"\n\n'
            f'[roles]\nadmins = ["telegram:{ALICE["id"]}"]\n'
        )
        env = {
            **{k: v for k, v in os.environ.items() if k not in {"DISCORD_BOT_TOKEN"}},
            "TELEGRAM_BOT_TOKEN": CLI_TOKEN,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        }
        with (tmp_path / "stderr.log").open("w+") as log:
            bot = await asyncio.create_subprocess_exec(
                str(BIN), "run", "--config", str(config), cwd=tmp_path, env=env, stderr=log
            )
            try:
                await api.wait_for_call("getUpdates", within=30)
                api.push(command_update("/whoami", private_chat(ALICE), ALICE))
                answer = await api.wait_for_call("sendMessage", within=10)

                bot.send_signal(signal.SIGTERM)
                returncode = await asyncio.wait_for(bot.wait(), 20)
            finally:
                if bot.returncode is None:
                    bot.kill()
                    await bot.wait()
            log.seek(0)
            stderr = log.read()

    assert visible_text(answer["text"]) == "You are Alice\nId: telegram:201\nYour role here: admin"
    assert answer["chat_id"] == str(ALICE["id"])
    assert returncode == 0, stderr
    assert "telegram adapter listening" in stderr
    assert "Traceback" not in stderr
    assert CLI_TOKEN not in stderr
