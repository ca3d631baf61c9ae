"""The Telegram adapter's commands: private, group, channel and topic chats, who is
an admin, and the command menus it pushes."""

from __future__ import annotations

import asyncio

import pytest

from adapters.telegram import TelegramAdapter, TelegramSettings
from bot.delivery import Permanent
from bot.text import rich
from bot.types import (
    BotAdded,
    BotRemoved,
    ChatKind,
    ChatRef,
    CommandIn,
    Content,
    Delivery,
    Event,
    EventResult,
    Op,
    TextIn,
    UserRef,
)
from tests.fakes.telegram.api import (
    FakeTelegramAPI,
    channel_chat,
    channel_post_update,
    command_update,
    forum_chat,
    group_chat,
    in_topic,
    my_chat_member_update,
    private_chat,
    text_update,
    user,
)
from tests.telegram_adapter.harness import (
    ADA,
    BOB,
    COMMANDS,
    DEPOT,
    DEPOT_REF,
    QUIET_RETRY_AFTER,
    Harness,
    ada_ref,
    started,
)

pytestmark = QUIET_RETRY_AFTER


# --- commands ------------------------------------------------------------------------


async def test_command_in_private_chat(tg: Harness) -> None:
    tg.api.push(command_update("/help  me please ", private_chat(ADA), ADA))

    event = await tg.next_event()

    chat = ChatRef("telegram", "101", "Ada Lovelace", ChatKind.PRIVATE)
    assert event == CommandIn(chat, ada_ref(), "help", "me please")
    assert tg.api.calls_to("getChatAdministrators") == []


async def test_command_in_group_knows_admins_and_caches_them(tg: Harness) -> None:
    tg.api.set_admins(DEPOT["id"], [ADA], owner=user(100, "Owner"))
    tg.api.push(
        command_update("/alert@OrganiseBot Picket at the depot\nBring flasks", DEPOT, ADA),
        command_update("/help", DEPOT, BOB),
    )

    first, second = await tg.next_event(), await tg.next_event()

    assert first == CommandIn(
        DEPOT_REF,
        ada_ref(is_admin=True),
        "alert",
        "Picket at the depot\nBring flasks",
        shared=True,  # a group reads every answer
    )
    assert isinstance(second, CommandIn)
    assert (second.name, second.user.user_id, second.user.is_chat_admin) == ("help", "102", False)
    assert len(tg.api.calls_to("getChatAdministrators")) == 1


async def test_anonymous_admin_posting_as_the_group_is_an_admin(tg: Harness) -> None:
    anonymous = user(1087968824, "Group")  # Telegram's GroupAnonymousBot
    update = command_update("/alert Strike vote tonight", DEPOT, anonymous)
    update["message"]["sender_chat"] = DEPOT
    tg.api.push(update)

    event = await tg.next_event()

    assert isinstance(event, CommandIn)
    assert event.user.is_chat_admin
    assert tg.api.calls_to("getChatAdministrators") == []


async def test_a_forum_topic_is_a_chat_of_its_own(tg: Harness) -> None:
    forum = forum_chat(-1005555, "Depot branch")
    pickets = tg.api.open_topic(forum, 7, "Pickets")
    tg.api.set_admins(forum["id"], [ADA])
    tg.api.push(
        in_topic(command_update("/tags", forum, ADA), pickets),
        command_update("/tags", forum, ADA),  # in General: the group itself
    )

    in_pickets, in_general = await tg.next_event(), await tg.next_event()

    assert isinstance(in_pickets, CommandIn) and isinstance(in_general, CommandIn)
    assert in_pickets.chat == ChatRef("telegram", "-1005555/7", "Depot branch — Pickets")
    assert in_general.chat == ChatRef("telegram", "-1005555", "Depot branch")
    assert in_pickets.user.is_chat_admin  # the group's admins, in each of its topics


async def test_sends_into_a_topic_and_edits_there(tg: Harness) -> None:
    forum = forum_chat(-1005555, "Depot branch")
    tg.api.open_topic(forum, 7, "Pickets")

    (sent,) = await tg.send(Content(rich("Picket at 6")), "-1005555/7")
    await tg.adapter.deliver(
        Delivery(Op.EDIT, "-1005555/7", Content(rich("Picket at 7")), "n", (sent,))
    )

    (call,) = tg.api.calls_to("sendMessage")
    assert (call["chat_id"], call["message_thread_id"]) == ("-1005555", "7")
    (edit,) = tg.api.calls_to("editMessageText")
    assert (edit["chat_id"], edit["message_id"]) == ("-1005555", sent)
    with pytest.raises(Permanent) as gone:
        await tg.send(Content(rich("Hello")), "-1005555/8")  # a deleted topic
    assert gone.value.chat_gone


async def test_a_channel_takes_the_bot_as_admin_and_its_posts_are_its_admins(
    tg: Harness,
) -> None:
    news = channel_chat(-1007777, "Branch news")
    bot = tg.api.bot_user
    tg.api.push(
        my_chat_member_update(news, ADA, bot, "left", "member"),  # no admin: cannot post
        my_chat_member_update(news, ADA, bot, "member", "administrator"),
        channel_post_update("/tag union:unison", news),
        channel_post_update("Strike ballot opens Monday", news),
        my_chat_member_update(news, ADA, bot, "administrator", "left"),
    )
    ref = ChatRef("telegram", "-1007777", "Branch news", ChatKind.CHANNEL)

    added, tagged, post, removed = [await tg.next_event() for _ in range(4)]
    admins = UserRef("telegram", "-1007777", "Branch news", is_chat_admin=True)

    assert added == BotAdded(ref, ada_ref())
    # A plain post is handed over too: the core acts on it only if it asked for it.
    assert post == TextIn(ref, admins, "Strike ballot opens Monday", shared=True)
    assert tagged == CommandIn(
        ref,
        admins,
        "tag",
        "union:unison",
        addressed=False,  # not /tag@OrganiseBot: a mistyped one goes unanswered
        shared=True,
    )
    assert removed == BotRemoved(ref)
    assert tg.api.calls_to("getChatAdministrators") == []


async def test_basic_group_counts_as_group(tg: Harness) -> None:
    basic = group_chat(-4321, "Old branch", kind="group")
    tg.api.push(command_update("/help", basic, ADA))

    event = await tg.next_event()

    assert isinstance(event, CommandIn)
    assert event.chat == ChatRef("telegram", "-4321", "Old branch", ChatKind.GROUP)


async def test_commands_for_other_bots_are_ignored_and_text_is_offered(tg: Harness) -> None:
    tg.api.push(
        text_update("hello everyone", DEPOT, ADA),
        command_update("/help@SomeOtherBot", DEPOT, ADA),
        command_update("/HELP@organisebot", DEPOT, ADA),
    )

    text = await tg.next_event()  # the core acts on it only if it asked ADA a question
    assert isinstance(text, TextIn) and text.text == "hello everyone"
    event = await tg.next_event()

    assert isinstance(event, CommandIn)
    assert event.name == "help"
    assert tg.events.empty()


async def test_command_menus_are_pushed_per_scope_at_start(tg: Harness) -> None:
    calls = tg.api.calls_to("setMyCommands")
    menus = {call["scope"]["type"]: call["commands"] for call in calls}

    assert len(calls) == len(menus) == 4
    help_only = [{"command": "help", "description": "What I can do"}]
    assert menus["default"] == menus["all_private_chats"] == menus["all_group_chats"] == help_only
    (_, alert) = menus["all_chat_administrators"]
    assert alert["command"] == "alert"
    assert len(alert["description"]) == 256


async def test_configured_admins_get_every_command_in_their_private_chat(
    api: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    settings = TelegramSettings(base_url=api.base_url)
    adapter = TelegramAdapter(api.token, settings, COMMANDS, admins=[101, 102])
    api.fail("setMyCommands", 400, "Bad Request: chat not found")  # the first: default
    await adapter.start(Harness(api, adapter, asyncio.Queue()).on_event)
    await adapter.stop()

    chats = [c for c in api.calls_to("setMyCommands") if c["scope"]["type"] == "chat"]
    assert [c["scope"]["chat_id"] for c in chats] == [101, 102]
    assert [c["command"] for c in chats[0]["commands"]] == ["help", "alert"]
    assert "could not set the Telegram command menu for default" in caplog.text


async def test_command_menu_failure_is_not_fatal(
    api: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    api.fail("setMyCommands", 400, "Bad Request: BOT_COMMAND_INVALID")
    harness = await started(api)
    try:
        api.push(command_update("/help", DEPOT, ADA))
        assert isinstance(await harness.next_event(), CommandIn)
    finally:
        await harness.adapter.stop()
    assert "could not set the Telegram command menu" in caplog.text


async def test_asks_only_for_the_updates_it_uses(tg: Harness) -> None:
    poll = await tg.api.wait_for_call("getUpdates")

    assert poll["allowed_updates"] == [
        "message",
        "callback_query",
        "my_chat_member",
        "chat_member",
        "channel_post",
    ]


async def test_a_failing_core_does_not_stop_the_adapter(tg: Harness) -> None:
    def reply(event: Event) -> EventResult:
        if isinstance(event, CommandIn) and event.name == "boom":
            raise RuntimeError("core bug")
        return EventResult()

    tg.reply = reply
    tg.api.push(command_update("/boom", DEPOT, ADA), command_update("/help", DEPOT, ADA))

    assert isinstance(await tg.next_event(), CommandIn)
    second = await tg.next_event()
    assert isinstance(second, CommandIn) and second.name == "help"
