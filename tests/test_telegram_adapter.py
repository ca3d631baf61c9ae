"""The Telegram adapter against a fake Bot API: real python-telegram-bot, real HTTP
over loopback, only the server is fake (tests/fakes/telegram/api.py)."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from icalendar import Calendar
from telegram import Bot, InputFile

from adapters.telegram import TelegramAdapter
from adapters.telegram.incoming import ANSWERS_AT_ONCE, BUTTON_FAILED, AdminCache, RecentJoins
from adapters.telegram.redact import TOKEN_MARK
from bot.config import ConfigError, TelegramSettings
from bot.delivery import ChatMoved as ChatMovedError
from bot.delivery import Limit, Pacing, Permanent, RetryAfter, Scope, Transient
from bot.registry import Command, Role
from bot.text import bold, code, italic, link, rich
from bot.types import (
    Attachment,
    BotAdded,
    BotRemoved,
    Button,
    ButtonIn,
    ChatKind,
    ChatMoved,
    ChatRef,
    CommandIn,
    Content,
    Delivery,
    Event,
    EventResult,
    Location,
    MemberJoined,
    MemberLeft,
    Op,
    TextIn,
    UserRef,
)
from tests.fakes.telegram.api import (
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
    text_update,
    user,
)

# PTB's own RetryAfter constructor reads its deprecated int ``retry_after``; the
# adapter reads it without the warning (adapters/telegram/outgoing.py).
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)

TIMEOUT = 5.0
ADA = user(101, "Ada", "Lovelace", "ada")
BOB = user(102, "Bob", "Crow")
DEPOT = group_chat(-1001234, "Depot branch")
COMMANDS = (
    Command("help", "What I can do"),
    Command("alert", "Tell everyone about an action " * 20, role=Role.ORGANISER),
)


@dataclass
class Harness:
    """A started adapter whose core records every event and answers with ``reply``."""

    api: FakeTelegramAPI
    adapter: TelegramAdapter
    events: asyncio.Queue[Event]
    reply: Callable[[Event], EventResult] = lambda _event: EventResult()

    async def on_event(self, event: Event) -> EventResult:
        self.events.put_nowait(event)
        return self.reply(event)

    async def next_event(self) -> Event:
        return await asyncio.wait_for(self.events.get(), TIMEOUT)

    async def send(self, content: Content, chat_id: str = "-1001234") -> tuple[str, ...]:
        return await self.adapter.deliver(Delivery(Op.SEND, chat_id, content, nonce="n"))


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as fake:
        yield fake


async def started(
    api: FakeTelegramAPI, settings: TelegramSettings | None = None, **options: float
) -> Harness:
    settings = settings or TelegramSettings(base_url=api.base_url, base_file_url=api.base_file_url)
    adapter = TelegramAdapter(api.token, settings, COMMANDS, **options)
    harness = Harness(api, adapter, asyncio.Queue())
    await adapter.start(harness.on_event)
    return harness


@pytest.fixture
async def tg(api: FakeTelegramAPI) -> AsyncIterator[Harness]:
    harness = await started(api)
    yield harness
    await harness.adapter.stop()


def ada_ref(is_admin: bool = False) -> UserRef:
    return UserRef("telegram", "101", "Ada Lovelace", is_chat_admin=is_admin)


DEPOT_REF = ChatRef("telegram", "-1001234", "Depot branch", ChatKind.GROUP)
CALENDAR = Attachment(
    "gc-meeting.ics",
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
    b"BEGIN:VEVENT\r\nSUMMARY:GC\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    "text/calendar",
)


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


# --- buttons -------------------------------------------------------------------------


async def test_button_press_is_answered_with_the_notice(tg: Harness) -> None:
    tg.reply = lambda _event: EventResult(notice="Vote counted")
    tg.api.push(callback_update("poll:7:yes", DEPOT, ADA, query_id="q1"))

    event = await tg.next_event()
    answer = await tg.api.wait_for_call("answerCallbackQuery")

    assert event == ButtonIn(DEPOT_REF, ada_ref(), "poll:7:yes")
    assert answer == {"callback_query_id": "q1", "text": "Vote counted"}


async def test_button_press_with_no_notice_is_still_answered(tg: Harness) -> None:
    tg.api.push(callback_update("noop", DEPOT, ADA, query_id="q2"))

    answer = await tg.api.wait_for_call("answerCallbackQuery")

    assert answer == {"callback_query_id": "q2"}


async def test_button_press_is_answered_when_the_core_fails(tg: Harness) -> None:
    def reply(_event: Event) -> EventResult:
        raise RuntimeError("unknown button")

    tg.reply = reply
    tg.api.push(callback_update("stale:1", DEPOT, ADA, query_id="q3"))

    answer = await tg.api.wait_for_call("answerCallbackQuery")

    assert answer == {"callback_query_id": "q3", "text": BUTTON_FAILED}


async def test_a_crowds_presses_are_all_answered_a_few_at_a_time(tg: Harness) -> None:
    """Answers wait for each other in the adapter, not in httpcore's pool (where
    each waiting request makes every other one dearer)."""
    tg.api.delay("answerCallbackQuery", 0.05)
    crowd = [user(200 + n, f"Member {n}") for n in range(3 * ANSWERS_AT_ONCE)]
    tg.api.push(
        *(callback_update("noop", DEPOT, who, query_id=f"c{n}") for n, who in enumerate(crowd))
    )

    most_at_once = 0
    async with asyncio.timeout(TIMEOUT):
        while len(answers := tg.api.calls_to("answerCallbackQuery")) < len(crowd):
            in_flight = [
                c for c in tg.api.calls if c.method == "answerCallbackQuery" and not c.status
            ]
            most_at_once = max(most_at_once, len(in_flight))
            await asyncio.sleep(0.005)

    assert {a["callback_query_id"] for a in answers} == {f"c{n}" for n in range(len(crowd))}
    assert 1 < most_at_once <= ANSWERS_AT_ONCE


# --- membership and chat changes -----------------------------------------------------


async def test_bot_added_to_and_kicked_from_a_group(tg: Harness) -> None:
    tg.api.set_admins(DEPOT["id"], [ADA])
    tg.api.push(
        bot_added_update(DEPOT, ADA, tg.api.bot_user),
        bot_kicked_update(DEPOT, ADA, tg.api.bot_user),
    )

    assert await tg.next_event() == BotAdded(DEPOT_REF, ada_ref(is_admin=True))
    assert await tg.next_event() == BotRemoved(DEPOT_REF)


async def test_group_upgraded_to_supergroup(tg: Harness) -> None:
    old = group_chat(-4321, "Old branch", kind="group")
    tg.api.push(migrate_update(old, ADA, -1009999))

    event = await tg.next_event()

    assert event == ChatMoved(ChatRef("telegram", "-4321", "Old branch"), "-1009999")


async def test_new_members_except_the_bot_itself(tg: Harness) -> None:
    tg.api.push(new_members_update(DEPOT, ADA, [ADA, tg.api.bot_user, BOB]))

    joined = [await tg.next_event(), await tg.next_event()]

    assert joined == [
        MemberJoined(DEPOT_REF, ada_ref()),
        MemberJoined(DEPOT_REF, UserRef("telegram", "102", "Bob Crow")),
    ]
    tg.api.push(command_update("/help", DEPOT, ADA))
    assert isinstance(await tg.next_event(), CommandIn)


async def test_a_join_told_twice_is_one_event_and_leaving_is_another(tg: Harness) -> None:
    tg.api.push(
        chat_member_update(DEPOT, BOB, BOB, "left", "member"),
        new_members_update(DEPOT, BOB, [BOB]),
        chat_member_update(DEPOT, BOB, BOB, "member", "left"),
        left_member_update(DEPOT, BOB, BOB),
        new_members_update(DEPOT, BOB, [BOB]),
        chat_member_update(DEPOT, BOB, BOB, "left", "member"),
        command_update("/help", DEPOT, ADA),
    )
    bob = UserRef("telegram", "102", "Bob Crow")

    events = [await tg.next_event() for _ in range(5)]

    assert events[:4] == [
        MemberJoined(DEPOT_REF, bob),
        MemberLeft(DEPOT_REF, bob),
        MemberLeft(DEPOT_REF, bob),
        MemberJoined(DEPOT_REF, bob),
    ]
    assert isinstance(events[4], CommandIn)


async def test_chat_member_changes_that_are_no_join_or_leave(tg: Harness) -> None:
    tg.api.set_admins(DEPOT["id"], [ADA])
    tg.api.push(command_update("/help", DEPOT, BOB))
    first = await tg.next_event()
    assert isinstance(first, CommandIn) and not first.user.is_chat_admin
    tg.api.set_admins(DEPOT["id"], [ADA, BOB])

    tg.api.push(
        chat_member_update(DEPOT, ADA, BOB, "member", "administrator"),
        chat_member_update(DEPOT, ADA, tg.api.bot_user, "member", "administrator"),
        command_update("/help", DEPOT, BOB),
    )

    promoted = await tg.next_event()
    assert isinstance(promoted, CommandIn) and promoted.user.is_chat_admin


def test_recent_joins_forget_after_the_window() -> None:
    now = [0.0]
    joins = RecentJoins(window=60.0, clock=lambda: now[0])

    assert joins.first(-1, 7)
    assert not joins.first(-1, 7)
    assert joins.first(-2, 7)
    now[0] = 60.0
    assert joins.first(-1, 7)


async def test_a_person_blocking_and_unblocking_the_bot(tg: Harness) -> None:
    chat = private_chat(ADA)
    tg.api.push(
        my_chat_member_update(chat, ADA, tg.api.bot_user, "member", "kicked"),
        my_chat_member_update(chat, ADA, tg.api.bot_user, "kicked", "member"),
    )
    ref = ChatRef("telegram", "101", "Ada Lovelace", ChatKind.PRIVATE)

    assert await tg.next_event() == BotRemoved(ref)
    assert await tg.next_event() == BotAdded(ref, ada_ref())
    assert tg.api.calls_to("getChatAdministrators") == []


async def test_chat_member_comes_only_because_it_is_asked_for(api: FakeTelegramAPI) -> None:
    """Telegram leaves chat_member out unless allowed_updates names it; so does the fake."""
    api.push(chat_member_update(DEPOT, BOB, BOB, "left", "member"))
    async with Bot(api.token, base_url=api.base_url) as bot:
        assert await bot.get_updates(timeout=0) == ()
        api.push(chat_member_update(DEPOT, BOB, BOB, "left", "member"))
        (update,) = await bot.get_updates(timeout=0, allowed_updates=["chat_member"])
    assert update.chat_member is not None


# --- sending -------------------------------------------------------------------------


async def test_send_escapes_user_text_and_renders_styles(tg: Harness) -> None:
    text = rich(
        "Picket at ",
        bold("Smith & Sons <Depot>"),
        " ",
        italic("6am"),
        " ",
        code("a<b"),
        " ",
        link("map & info", 'https://example.org/?a=1&b="2"'),
    )

    ids = await tg.send(Content(text))

    (call,) = tg.api.calls_to("sendMessage")
    assert call["text"] == (
        "Picket at <b>Smith &amp; Sons &lt;Depot&gt;</b> <i>6am</i> <code>a&lt;b</code> "
        '<a href="https://example.org/?a=1&amp;b=&quot;2&quot;">map &amp; info</a>'
    )
    assert call["parse_mode"] == "HTML"
    assert call["link_preview_options"] == {"is_disabled": True}
    assert call["chat_id"] == "-1001234"
    assert ids == (str(1001),)


async def test_long_message_is_split_with_buttons_on_the_last_part(tg: Harness) -> None:
    lines = [f"{n:04} " + "x" * 995 for n in range(9)]  # 9 lines of 1,000 characters
    buttons = ((Button("Going", "rsvp:1:yes"), Button("Not going", "rsvp:1:no")),)

    ids = await tg.send(Content(rich("\n".join(lines)), buttons=buttons))

    calls = tg.api.calls_to("sendMessage")
    assert len(ids) == len(calls) == 3
    assert all(len(call["text"]) <= 4096 for call in calls)
    assert "\n".join(call["text"] for call in calls) == "\n".join(lines)
    assert [("reply_markup" in call) for call in calls] == [False, False, True]
    assert calls[-1]["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Going", "callback_data": "rsvp:1:yes"},
                {"text": "Not going", "callback_data": "rsvp:1:no"},
            ]
        ]
    }


async def test_split_counts_what_telegram_counts(tg: Harness) -> None:
    # An emoji is two UTF-16 units, which is how Telegram measures text.
    ids = await tg.send(Content(rich("✊🏽" * 1500)))

    assert len(ids) == 2


async def test_location_with_title_and_address_is_a_venue(tg: Harness) -> None:
    place = Location(51.5072, -0.1276, "Smith & Sons <Depot>", "1 High St")

    ids = await tg.send(Content(rich("Meet here"), location=place))

    (venue,) = tg.api.calls_to("sendVenue")
    assert (venue["title"], venue["address"]) == ("Smith & Sons <Depot>", "1 High St")
    assert (float(venue["latitude"]), float(venue["longitude"])) == (51.5072, -0.1276)
    assert len(ids) == 2


async def test_a_refused_pin_after_sent_text_does_not_fail_the_delivery(tg: Harness) -> None:
    # The text carries the map link; failing would leave the message half-delivered.
    tg.api.fail("sendVenue", 400, "Bad Request: wrong latitude")
    place = Location(51.5072, -0.1276, "Depot", "1 High St")

    ids = await tg.send(Content(rich("Meet here"), location=place))

    assert len(ids) == 1
    assert len(tg.api.calls_to("sendMessage")) == 1


async def test_a_pin_told_to_wait_is_sent_by_the_retry_alone(tg: Harness) -> None:
    tg.api.fail_retry_after("sendVenue", 3)
    place = Location(51.5072, -0.1276, "Depot", "1 High St")
    content = Content(rich("Meet here"), location=place)
    progress: list[tuple[str, ...]] = []

    with pytest.raises(RetryAfter):
        await tg.adapter.deliver(
            Delivery(Op.SEND, "-1001234", content, "n", next_part=_keep(progress))
        )
    ids = await tg.adapter.deliver(Delivery(Op.SEND, "-1001234", content, "n", progress[-1]))

    assert len(tg.api.calls_to("sendMessage")) == 1
    assert len(tg.api.calls_to("sendVenue")) == 2
    assert ids[0] == progress[-1][0] and len(ids) == 2


async def test_a_429_on_part_two_resumes_at_part_two(tg: Harness) -> None:
    lines = [f"{n:04} " + "x" * 995 for n in range(9)]
    content = Content(rich("\n".join(lines)))
    progress: list[tuple[str, ...]] = []

    async def fail_the_next(sent: tuple[str, ...]) -> None:
        progress.append(sent)
        tg.api.fail_retry_after("sendMessage", 3)

    with pytest.raises(RetryAfter):
        await tg.adapter.deliver(
            Delivery(Op.SEND, "-1001234", content, "n", next_part=fail_the_next)
        )
    mark = tg.api.mark()
    ids = await tg.adapter.deliver(Delivery(Op.SEND, "-1001234", content, "n", progress[-1]))

    first, *_ = tg.api.calls_to("sendMessage")
    again = tg.api.calls_to("sendMessage", after=mark)
    assert len(progress[-1]) == 1 and len(again) == 2  # parts 2 and 3, not part 1 again
    assert "\n".join(call["text"] for call in [first, *again]) == "\n".join(lines)
    assert ids[0] == progress[-1][0] and len(ids) == 3


def _keep(progress: list[tuple[str, ...]]) -> Callable[[tuple[str, ...]], Awaitable[None]]:
    """A ``next_part`` that keeps what the sender would: the parts out so far."""

    async def next_part(sent: tuple[str, ...]) -> None:
        progress.append(sent)

    return next_part


async def test_bare_location_is_a_pin_carrying_the_buttons(tg: Harness) -> None:
    buttons = ((Button("Directions", "dir:1"),),)

    ids = await tg.send(Content(rich(), buttons=buttons, location=Location(51.5, -0.12)))

    (pin,) = tg.api.calls_to("sendLocation")
    assert pin["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "dir:1"
    assert tg.api.calls_to("sendMessage") == []
    assert len(ids) == 1


async def test_a_file_is_a_document_captioned_with_the_text(tg: Harness) -> None:
    text = rich("📅 ", bold("Smith & Sons <Depot>"), "\nTap the file")
    buttons = ((Button("Going", "rsvp:1:yes"),),)

    ids = await tg.send(Content(text, buttons=buttons, attachment=CALENDAR))

    (call,) = tg.api.calls_to("sendDocument")
    upload = call["document"]
    assert (upload.file_name, upload.data, upload.mime_type) == (
        "gc-meeting.ics",
        CALENDAR.data,
        "text/calendar",
    )
    assert Calendar.from_ical(upload.data).walk("VEVENT")[0]["SUMMARY"] == "GC"
    assert call["caption"] == "📅 <b>Smith &amp; Sons &lt;Depot&gt;</b>\nTap the file"
    assert call["parse_mode"] == "HTML"
    assert call["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "rsvp:1:yes"
    assert tg.api.calls_to("sendMessage") == []
    assert ids == ("1001",)


async def test_text_too_long_for_a_caption_goes_first_then_the_file(tg: Harness) -> None:
    lines = [f"{n:04} " + "&" * 495 for n in range(10)]  # 5,009 characters: two messages
    buttons = ((Button("Going", "rsvp:1:yes"),),)

    ids = await tg.send(Content(rich("\n".join(lines)), buttons=buttons, attachment=CALENDAR))

    texts = tg.api.calls_to("sendMessage")
    (document,) = tg.api.calls_to("sendDocument")
    assert len(ids) == 3 and len(texts) == 2
    assert tg.api.calls[-1].method == "sendDocument"  # after the text
    assert "\n".join(call["text"] for call in texts) == "\n".join(lines).replace("&", "&amp;")
    assert "reply_markup" in texts[-1] and "reply_markup" not in document
    assert "caption" not in document
    assert document["document"].data == CALENDAR.data


async def test_a_caption_of_exactly_1024_characters_fits(tg: Harness) -> None:
    await tg.send(Content(rich("✊" * 1024), attachment=CALENDAR))
    await tg.send(Content(rich("✊" * 1025), attachment=CALENDAR))

    captions = [call.get("caption") for call in tg.api.calls_to("sendDocument")]
    assert captions == ["✊" * 1024, None]
    assert [call["text"] for call in tg.api.calls_to("sendMessage")] == ["✊" * 1025]


async def test_a_refused_file_after_sent_text_fails_the_delivery(tg: Harness) -> None:
    # The file is what was asked for: the outbox tries the whole message again.
    tg.api.fail_retry_after("sendDocument", 3)

    with pytest.raises(RetryAfter):
        await tg.send(Content(rich("x" * 2000), attachment=CALENDAR))

    assert len(tg.api.calls_to("sendMessage")) == 1


async def test_a_file_to_a_kicked_bot_is_a_chat_gone(tg: Harness) -> None:
    tg.api.fail_kicked("sendDocument")

    with pytest.raises(Permanent) as caught:
        await tg.send(Content(rich("Calendar"), attachment=CALENDAR))

    assert caught.value.chat_gone


async def test_empty_message_is_permanent(tg: Harness) -> None:
    with pytest.raises(Permanent):
        await tg.send(Content(rich("  \n ")))


async def test_edit_replaces_text_and_keyboard(tg: Harness) -> None:
    content = Content(rich("Poll ", bold("closed")), buttons=((Button("Results", "poll:7:r"),),))

    ids = await tg.adapter.deliver(Delivery(Op.EDIT, "-1001234", content, "n", ("55", "56")))

    (call,) = tg.api.calls_to("editMessageText")
    assert (call["message_id"], call["text"]) == ("55", "Poll <b>closed</b>")
    assert call["reply_markup"]["inline_keyboard"][0][0]["text"] == "Results"
    assert ids == ("55", "56")


async def test_edit_of_a_long_message_edits_every_part(tg: Harness) -> None:
    lines = [f"{n:04} " + "y" * 995 for n in range(9)]
    content = Content(rich("\n".join(lines)), buttons=((Button("Results", "poll:7:r"),),))

    ids = await tg.adapter.deliver(Delivery(Op.EDIT, "-1001234", content, "n", ("5", "6", "7")))

    calls = tg.api.calls_to("editMessageText")
    assert [call["message_id"] for call in calls] == ["5", "6", "7"]
    assert "\n".join(call["text"] for call in calls) == "\n".join(lines)
    assert [("reply_markup" in call) for call in calls] == [False, False, True]
    assert ids == ("5", "6", "7")


async def test_edit_of_a_captioned_file_edits_its_caption(tg: Harness) -> None:
    content = Content(rich("Moved to ", bold("Thu")), attachment=CALENDAR)

    ids = await tg.adapter.deliver(Delivery(Op.EDIT, "-1001234", content, "n", ("55",)))

    (call,) = tg.api.calls_to("editMessageCaption")
    assert (call["message_id"], call["caption"]) == ("55", "Moved to <b>Thu</b>")
    assert tg.api.calls_to("editMessageText") == []
    assert ids == ("55",)


async def test_edit_to_the_same_text_is_success(tg: Harness) -> None:
    tg.api.fail(
        "editMessageText",
        400,
        "Bad Request: message is not modified: specified new message content and reply "
        "markup are exactly the same as a current content and reply markup of the message",
    )

    ids = await tg.adapter.deliver(Delivery(Op.EDIT, "-1001234", Content(rich("x")), "n", ("9",)))

    assert ids == ("9",)


async def test_delete_every_part_and_tolerate_gone_ones(tg: Harness) -> None:
    tg.api.fail("deleteMessage", 400, "Bad Request: message to delete not found")

    await tg.adapter.deliver(Delivery(Op.DELETE, "-1001234", Content(rich()), "n", ("7", "8")))

    assert [call["message_id"] for call in tg.api.calls_to("deleteMessage")] == ["7", "8"]


# --- error mapping -------------------------------------------------------------------


async def test_429_is_retry_after_with_the_exact_seconds(tg: Harness) -> None:
    tg.api.fail_retry_after("sendMessage", 7)

    with pytest.raises(RetryAfter) as caught:
        await tg.send(Content(rich("hi")))

    assert caught.value.seconds == 7.0


async def test_kicked_bot_is_permanent_and_chat_gone(tg: Harness) -> None:
    tg.api.fail_kicked("sendMessage", chat_id=-1001234)

    with pytest.raises(Permanent) as caught:
        await tg.send(Content(rich("hi")))

    assert caught.value.chat_gone
    assert "kicked" in caught.value.reason


async def test_upgraded_group_is_chat_moved(tg: Harness) -> None:
    tg.api.fail_migrated("sendMessage", -1009999)

    with pytest.raises(ChatMovedError) as caught:
        await tg.send(Content(rich("hi")), chat_id="-4321")

    assert caught.value.new_chat_id == "-1009999"


async def test_chat_not_found_is_permanent_and_chat_gone(tg: Harness) -> None:
    tg.api.fail_chat_not_found("sendMessage")

    with pytest.raises(Permanent) as caught:
        await tg.send(Content(rich("hi")))

    assert caught.value.chat_gone


async def test_other_bad_request_is_permanent_not_transient(tg: Harness) -> None:
    tg.api.fail("sendMessage", 400, "Bad Request: can't parse entities")

    with pytest.raises(Permanent) as caught:
        await tg.send(Content(rich("hi")))

    assert not isinstance(caught.value, Transient)
    assert not caught.value.chat_gone


async def test_server_error_is_transient(tg: Harness) -> None:
    tg.api.fail("sendMessage", 502, "Bad Gateway")

    with pytest.raises(Transient):
        await tg.send(Content(rich("hi")))


async def test_timeout_is_transient(api: FakeTelegramAPI) -> None:
    harness = await started(api, request_timeout=0.2)
    api.delay("sendMessage", 0.5)
    try:
        with pytest.raises(Transient):
            await harness.send(Content(rich("hi")))
    finally:
        await harness.adapter.stop()


async def test_delivery_when_not_running_is_transient(api: FakeTelegramAPI) -> None:
    adapter = TelegramAdapter(api.token, TelegramSettings(base_url=api.base_url))

    with pytest.raises(Transient):
        await adapter.deliver(Delivery(Op.SEND, "1", Content(rich("hi")), "n"))


async def test_fake_enforces_flood_limits(api: FakeTelegramAPI) -> None:
    async with FakeTelegramAPI(enforce_limits=True) as strict:
        harness = await started(strict)
        try:
            await harness.send(Content(rich("one")))
            with pytest.raises(RetryAfter) as caught:
                await harness.send(Content(rich("two")))
            await harness.send(Content(rich("elsewhere")), chat_id="101")
            with pytest.raises(RetryAfter):  # a file is a message like any other
                await harness.send(Content(rich("file"), attachment=CALENDAR), chat_id="101")
        finally:
            await harness.adapter.stop()
    assert caught.value.seconds == 1.0


async def test_fake_answers_a_document_as_ptb_expects(api: FakeTelegramAPI) -> None:
    async with Bot(api.token, base_url=api.base_url) as bot:
        message = await bot.send_document(
            -1001234, InputFile(CALENDAR.data, filename="gc-meeting.ics"), caption="GC"
        )

    assert message.document is not None
    assert (message.document.file_name, message.document.file_size) == (
        "gc-meeting.ics",
        len(CALENDAR.data),
    )
    assert message.document.file_id and message.document.file_unique_id
    assert message.caption == "GC"


def test_pacing_follows_telegrams_documented_limits() -> None:
    adapter = TelegramAdapter("1:x", TelegramSettings())

    assert adapter.platform == "telegram"
    assert adapter.pacing == Pacing(
        limits=(Limit(30, 1.0, Scope.ALL), Limit(20, 60.0, Scope.GROUP), Limit(1, 1.0, Scope.CHAT)),
        max_in_flight=16,
        catch_up_seconds=0.1,
    )


# --- admin cache ---------------------------------------------------------------------


async def test_admin_cache_refreshes_after_its_ttl(api: FakeTelegramAPI) -> None:
    now = [0.0]
    api.set_admins(DEPOT["id"], [ADA])
    async with Bot(api.token, base_url=api.base_url) as bot:
        cache = AdminCache(bot, ttl=300.0, clock=lambda: now[0])
        assert await cache.admins(DEPOT["id"]) == {101}
        api.set_admins(DEPOT["id"], [ADA, BOB])
        now[0] = 299.0
        assert await cache.admins(DEPOT["id"]) == {101}
        now[0] = 301.0
        assert await cache.admins(DEPOT["id"]) == {101, 102}
    assert len(api.calls_to("getChatAdministrators")) == 2


# --- secrets -------------------------------------------------------------------------


async def test_token_never_reaches_the_logs(
    api: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness = await started(api)
    try:
        await harness.send(Content(rich("hi")))
        try:
            raise RuntimeError(f"failed calling {api.base_url}{api.token}/sendMessage")
        except RuntimeError:
            logging.getLogger("aiohttp.client").exception("request failed")
    finally:
        await harness.adapter.stop()

    assert "/bot" + TOKEN_MARK in caplog.text, "the failure should still be logged, redacted"
    assert api.token not in caplog.text
    assert all(api.token not in record.getMessage() for record in caplog.records)


async def test_rejected_token_is_one_clear_sentence_without_the_token(
    api: FakeTelegramAPI,
) -> None:
    wrong = "999999:not-the-real-token"
    adapter = TelegramAdapter(wrong, TelegramSettings(base_url=api.base_url))

    with pytest.raises(ConfigError) as caught:
        await adapter.start(Harness(api, adapter, asyncio.Queue()).on_event)

    assert "rejected" in str(caught.value)
    assert wrong not in "".join(traceback.format_exception(caught.value))
    await adapter.stop()


async def test_stopped_adapter_does_not_deliver(api: FakeTelegramAPI) -> None:
    harness = await started(api)
    await harness.adapter.stop()
    await harness.adapter.stop()

    with pytest.raises(Transient):
        await harness.send(Content(rich("hi")))
    assert api.calls_to("sendMessage") == []


# --- webhook -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_webhook_accepts_only_telegrams_secret(api: FakeTelegramAPI) -> None:
    port = free_port()
    settings = TelegramSettings(
        mode="webhook",
        base_url=api.base_url,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_url=f"http://127.0.0.1:{port}/hook",
        webhook_path="hook",
    )
    harness = await started(api, settings)
    try:
        secret = api.webhook["secret_token"]
        assert len(secret) >= 32
        assert api.webhook["allowed_updates"] == [
            "message",
            "callback_query",
            "my_chat_member",
            "chat_member",
            "channel_post",
        ]

        forged = await api.post_webhook(command_update("/forged", DEPOT, BOB), secret="guess")
        genuine = await api.post_webhook(command_update("/help", DEPOT, ADA))

        assert (forged, genuine) == (403, 200)
        event = await harness.next_event()
        assert isinstance(event, CommandIn) and event.name == "help"
        assert harness.events.empty()
        assert api.calls_to("getUpdates") == []
    finally:
        await harness.adapter.stop()
