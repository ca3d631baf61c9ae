"""The Telegram adapter's membership and chat changes: the bot added, kicked or moved,
members joining and leaving."""

from __future__ import annotations

from telegram import Bot

from adapters.telegram.incoming import RecentJoins
from bot.types import (
    BotAdded,
    BotRemoved,
    ChatKind,
    ChatMoved,
    ChatRef,
    CommandIn,
    MemberJoined,
    MemberLeft,
    UserRef,
)
from tests.fakes.telegram.api import (
    FakeTelegramAPI,
    bot_added_update,
    bot_kicked_update,
    chat_member_update,
    command_update,
    group_chat,
    left_member_update,
    migrate_update,
    my_chat_member_update,
    new_members_update,
    private_chat,
)
from tests.telegram_adapter.harness import (
    ADA,
    BOB,
    DEPOT,
    DEPOT_REF,
    QUIET_RETRY_AFTER,
    Harness,
    ada_ref,
)

pytestmark = QUIET_RETRY_AFTER


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
