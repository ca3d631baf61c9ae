"""Telegram updates as core events.

:class:`Incoming` is PTB's one update handler: it translates each update, hands
the events to the core and, for a button press, answers Telegram with the core's
notice. Nothing raised in here may stop the adapter, so failures are logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from telegram import Bot, CallbackQuery, Chat, ChatMember, ChatMemberUpdated, Message, Update, User
from telegram import error as tg
from telegram.constants import CallbackQueryLimit, ChatType, MessageEntityType

from adapters.telegram.spec import PLATFORM
from adapters.telegram.topics import joined, topic_name, topic_of
from bot.platform import EventHandler
from bot.types import (
    BotAdded,
    BotRemoved,
    ButtonIn,
    ChatKind,
    ChatMoved,
    ChatRef,
    CommandIn,
    Event,
    MemberJoined,
    MemberLeft,
    TextIn,
    UserRef,
)

log = logging.getLogger(__name__)

BUTTON_FAILED = "Sorry, that button didn't work — try again."
ADMIN_CACHE_SECONDS = 300.0
# Where the bot is an admin, one join may come twice: as a service message and as a
# chat_member update, in either order and a moment apart. Within this window the
# second is the same join.
JOIN_WINDOW_SECONDS = 60.0
# Presses answered at once. A crowd's presses are committed together and then all
# want answering. Queued in httpcore's connection pool, they would cost more CPU
# each the more of them wait, since it looks over its queue and connections for
# every request: without this limit bench/polls.py records half as many votes a
# second. Four in flight still answer some 80 presses a second at 50 ms a round trip.
ANSWERS_AT_ONCE = 4
GROUP_TYPES = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
CHAT_KINDS: dict[str, ChatKind] = {
    ChatType.PRIVATE: ChatKind.PRIVATE,
    ChatType.CHANNEL: ChatKind.CHANNEL,
}


class Incoming:
    """Updates → events → ``on_event``; PTB runs several at once (ordering.py)."""

    def __init__(
        self, on_event: EventHandler, admins: AdminCache, joins: RecentJoins | None = None
    ) -> None:
        self._on_event = on_event
        self._admins = admins
        self._joins = joins or RecentJoins()
        self._answering = asyncio.Semaphore(ANSWERS_AT_ONCE)

    async def dispatch(self, update: Update, _context: object) -> None:
        if update.callback_query is not None:
            await self._on_button(update.callback_query)
            return
        try:
            events = await self._translate(update)
        except Exception:
            log.exception("could not translate Telegram update %s", update.update_id)
            return
        for event in events:
            try:
                await self._on_event(event)
            except Exception:
                log.exception("handling %s from Telegram failed", type(event).__name__)

    async def _translate(self, update: Update) -> list[Event]:
        if update.my_chat_member is not None:
            return await self._membership(update.my_chat_member)
        if update.chat_member is not None:
            return await self._member_change(update.chat_member)
        if update.message is not None:
            return await self._message(update.message)
        if update.channel_post is not None:
            return await self._message(update.channel_post)
        return []

    async def _message(self, message: Message) -> list[Event]:
        chat = message_chat(message)
        bot = message.get_bot()
        if message.migrate_to_chat_id:
            self._admins.forget(message.chat.id)
            return [ChatMoved(chat, str(message.migrate_to_chat_id))]
        if message.new_chat_members:
            return await self._joined(message.chat, message.new_chat_members)
        if message.left_chat_member is not None:
            return self._left(message.chat, message.left_chat_member)
        command = parse_command(message, bot.username)
        author = message.from_user or channel_admin(message)
        text = message.text or ""
        if author is None or (command is None and (not text or text[0] == "/")):
            return []  # nothing for us, or a command for another bot
        user = await self._user_ref(author, message.chat, message.sender_chat)
        # Telegram has no answer only the asker sees: outside a private chat,
        # every answer is read by the whole chat.
        shared = message.chat.type != ChatType.PRIVATE
        if command is None:  # in a group with privacy mode: a reply to one of ours
            return [TextIn(chat, user, text, shared=shared)]
        name, text, to_us = command
        addressed = to_us or not shared
        return [CommandIn(chat, user, name, text, addressed=addressed, shared=shared)]

    async def _membership(self, change: ChatMemberUpdated) -> list[Event]:
        """The bot's own membership: joining a group is BotAdded, leaving or being
        kicked is BotRemoved; promotions and the like are not events. In a private
        chat Telegram sends this only when the person blocks the bot (BotRemoved:
        nothing more is sent there) or unblocks it (BotAdded: active again). A channel
        takes the bot only as an administrator: made one, it may post there."""
        was, now = is_present(change.old_chat_member), is_present(change.new_chat_member)
        chat = chat_ref(change.chat)
        self._admins.forget(change.chat.id)
        if change.chat.type == ChatType.CHANNEL:  # a bot that is no admin can post nothing
            was, now = is_admin(change.old_chat_member), is_admin(change.new_chat_member)
        if now and not was:
            return [BotAdded(chat, await self._user_ref(change.from_user, change.chat))]
        if was and not now:
            return [BotRemoved(chat)]
        return []

    async def _member_change(self, change: ChatMemberUpdated) -> list[Event]:
        """Someone else's membership of a group (``chat_member``, sent only where the
        bot is an administrator — but also in large groups, where Telegram leaves out
        the join service messages)."""
        if change.chat.type not in GROUP_TYPES:
            return []
        old, new = change.old_chat_member, change.new_chat_member
        if {old.status, new.status} & {ChatMember.ADMINISTRATOR, ChatMember.OWNER}:
            self._admins.forget(change.chat.id)  # promoted or demoted: look again
        person = new.user
        if person.id == change.get_bot().id:
            return []  # the bot's own membership comes as my_chat_member
        was, now = is_present(old), is_present(new)
        if now and not was:
            return await self._joined(change.chat, [person])
        if was and not now:
            return self._left(change.chat, person)
        return []

    async def _joined(self, chat: Chat, people: Sequence[User]) -> list[Event]:
        """A join Telegram told us of twice (a service message and a chat_member
        update) is one event; the bot's own join is BotAdded, not this."""
        bot_id = chat.get_bot().id
        return [
            MemberJoined(chat_ref(chat), await self._user_ref(person, chat))
            for person in people
            if person.id != bot_id and self._joins.first(chat.id, person.id)
        ]

    def _left(self, chat: Chat, person: User) -> list[Event]:
        """Whether they were an admin does not matter any more, so it is not looked up."""
        if person.id == chat.get_bot().id:
            return []
        self._joins.forget(chat.id, person.id)  # joining again is news again
        return [MemberLeft(chat_ref(chat), UserRef(PLATFORM, str(person.id), person.full_name))]

    async def _on_button(self, query: CallbackQuery) -> None:
        """Hand the press to the core, then always answer it: Telegram shows a
        spinner on the button until we do. Answers wait their turn for the pool."""
        notice = BUTTON_FAILED
        try:
            event = await self._button(query)
            notice = "" if event is None else (await self._on_event(event)).notice
        except Exception:
            log.exception("handling a Telegram button press failed")
        try:
            async with self._answering:
                await query.get_bot().answer_callback_query(
                    query.id, text=fit_notice(notice) or None
                )
        except tg.TelegramError as error:
            log.warning("could not answer a Telegram button press: %s", error)

    async def _button(self, query: CallbackQuery) -> ButtonIn | None:
        """``None`` for presses we cannot place: on inline-mode messages (no chat)
        or game buttons (no data)."""
        if query.message is None or query.data is None:
            return None
        user = await self._user_ref(query.from_user, query.message.chat)
        where = query.message if isinstance(query.message, Message) else None
        chat = message_chat(where) if where is not None else chat_ref(query.message.chat)
        return ButtonIn(chat, user, query.data)

    async def _user_ref(self, user: User, chat: Chat, sender_chat: Chat | None = None) -> UserRef:
        return UserRef(
            platform=PLATFORM,
            user_id=str(user.id),
            display_name=user.full_name,
            is_chat_admin=await self._is_admin(user, chat, sender_chat),
        )

    async def _is_admin(self, user: User, chat: Chat, sender_chat: Chat | None) -> bool:
        """Only groups and channels have administrators. A message sent *as the chat
        itself* comes from an anonymous administrator — only admins can do that (in a
        channel, every post is)."""
        if sender_chat is not None and sender_chat.id == chat.id:
            return True
        if chat.type not in GROUP_TYPES:
            return False
        return user.id in await self._admins.admins(chat.id)


def fit_notice(notice: str) -> str:
    """A button's answer within Telegram's 200 characters: longer, and Telegram
    refuses it and the button keeps spinning (a 200-character title quoted)."""
    limit = CallbackQueryLimit.ANSWER_CALLBACK_QUERY_TEXT_LENGTH
    return notice if len(notice) <= limit else notice[: limit - 1].rstrip() + "…"


def chat_ref(chat: Chat) -> ChatRef:
    """Groups and supergroups are both just groups to the core."""
    kind = CHAT_KINDS.get(chat.type, ChatKind.GROUP)
    return ChatRef(PLATFORM, str(chat.id), chat.effective_name or "", kind)


def message_chat(message: Message) -> ChatRef:
    """The chat a message belongs to: its forum topic, if it was sent in one
    (``topics``), titled "Group — Topic" where the update names the topic (else the
    title stays as it was), or the chat itself."""
    thread = topic_of(message)
    if thread is None:
        return chat_ref(message.chat)
    name = topic_name(message)
    title = f"{message.chat.effective_name} — {name}" if name else ""
    return ChatRef(PLATFORM, joined(message.chat.id, thread), title, ChatKind.GROUP)


def parse_command(message: Message, bot_username: str) -> tuple[str, str, bool] | None:
    """``(name, rest of the message, addressed to us by name)`` for a message that
    starts with a bot command that may be meant for us, else ``None``.
    ``/cmd@OtherBot`` is for another bot in the group; a bare ``/cmd`` may be."""
    entities = message.entities
    if not message.text or not entities or entities[0].type != MessageEntityType.BOT_COMMAND:
        return None
    if entities[0].offset != 0:
        return None
    head, *rest = message.text.split(maxsplit=1)
    name, _, addressee = head[1:].partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return None
    return name.lower(), rest[0].strip() if rest else "", bool(addressee)


def channel_admin(message: Message) -> User | None:
    """Who posted in a channel: the channel itself, which only its administrators
    can post as. Telegram names no person (at most a signature), so the channel
    stands for them, as an administrator of that channel and of nothing else."""
    chat = message.chat
    if chat.type != ChatType.CHANNEL or message.sender_chat is None:
        return None
    if message.sender_chat.id != chat.id:
        return None
    return User(chat.id, chat.effective_name or "Channel", is_bot=False)


def is_admin(member: ChatMember) -> bool:
    return member.status in {ChatMember.ADMINISTRATOR, ChatMember.OWNER}


def is_present(member: ChatMember) -> bool:
    if member.status in {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER}:
        return True
    return member.status == ChatMember.RESTRICTED and bool(getattr(member, "is_member", False))


class AdminCache:
    """Who administers each group, fetched at most once per ``ttl`` seconds per chat:
    is_chat_admin is needed on every command, getChatAdministrators is a slow call."""

    def __init__(
        self,
        bot: Bot,
        ttl: float = ADMIN_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[int, tuple[float, frozenset[int]]] = {}

    async def admins(self, chat_id: int) -> frozenset[int]:
        cached = self._cache.get(chat_id)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        try:
            members = await self._bot.get_chat_administrators(chat_id)
        except tg.TelegramError as error:
            # Not cached: the next message tries again.
            log.warning("could not fetch administrators of Telegram chat %s: %s", chat_id, error)
            return frozenset()
        admins = frozenset(member.user.id for member in members)
        self._cache[chat_id] = (self._clock() + self._ttl, admins)
        return admins

    def forget(self, chat_id: int) -> None:
        self._cache.pop(chat_id, None)


class RecentJoins:
    """The joins of the last ``window`` seconds, so a join told twice counts once.
    Entries are never refreshed, so the oldest is always first and expired ones
    are dropped from the front: memory stays at a window's worth of joins."""

    def __init__(
        self, window: float = JOIN_WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._window = window
        self._clock = clock
        self._seen: OrderedDict[tuple[int, int], float] = OrderedDict()

    def first(self, chat_id: int, user_id: int) -> bool:
        """Whether this is the first word of ``user_id`` joining ``chat_id`` lately."""
        now = self._clock()
        while self._seen and next(iter(self._seen.values())) <= now - self._window:
            self._seen.popitem(last=False)
        if (chat_id, user_id) in self._seen:
            return False
        self._seen[(chat_id, user_id)] = now
        return True

    def forget(self, chat_id: int, user_id: int) -> None:
        self._seen.pop((chat_id, user_id), None)
