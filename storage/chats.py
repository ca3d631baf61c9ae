"""Chats, people and chat tags: registered on first contact, kept minimal."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.types import ChatKind, ChatRef, Finished, UserRef
from storage.models import Chat, ChatMember, ChatTag, OutboxRow, Person


async def register_chat(session: AsyncSession, ref: ChatRef, now: datetime) -> Chat:
    """The chat's row, created on first contact; title and kind kept current.
    A chat we hear from again is active again (the bot was re-added)."""
    chat = await find_chat(session, ref.platform, ref.chat_id)
    if chat is None:
        chat = Chat(
            platform=ref.platform,
            platform_chat_id=ref.chat_id,
            title=ref.title,
            kind=ref.kind.value,
            active=True,
            inactive_reason="",
            created_at=now,
        )
        session.add(chat)
        await session.flush()
        return chat
    if ref.title and chat.title != ref.title:
        chat.title = ref.title
    if chat.kind != ref.kind.value:
        chat.kind = ref.kind.value
    if not chat.active:
        chat.active, chat.inactive_reason = True, ""
    return chat


async def find_chat(session: AsyncSession, platform: str, chat_id: str) -> Chat | None:
    return await session.scalar(
        select(Chat).where(Chat.platform == platform, Chat.platform_chat_id == chat_id)
    )


async def register_person(
    session: AsyncSession, ref: UserRef, chat: Chat | None, now: datetime
) -> Person:
    person = await find_person(session, ref.platform, ref.user_id)
    if person is None:
        person = Person(
            platform=ref.platform,
            platform_user_id=ref.user_id,
            display_name=ref.display_name,
            created_at=now,
        )
        session.add(person)
        await session.flush()
    elif ref.display_name and person.display_name != ref.display_name:
        person.display_name = ref.display_name
    if chat is not None and await session.get(ChatMember, (chat.id, person.id)) is None:
        session.add(ChatMember(chat_id=chat.id, person_id=person.id))
        await session.flush()
    return person


async def find_person(session: AsyncSession, platform: str, user_id: str) -> Person | None:
    return await session.scalar(
        select(Person).where(Person.platform == platform, Person.platform_user_id == user_id)
    )


async def members_named(session: AsyncSession, chat: Chat, name: str) -> list[Person]:
    """People seen in ``chat`` whose display name is ``name`` (ignoring case and an
    leading @)."""
    wanted = name.removeprefix("@").casefold()
    people = await session.scalars(
        select(Person)
        .join(ChatMember, ChatMember.person_id == Person.id)
        .where(ChatMember.chat_id == chat.id)
    )
    return [p for p in people if p.display_name.casefold() == wanted]


async def leave_chat(session: AsyncSession, chat_id: int, user: UserRef) -> None:
    """``user`` is no longer in the chat: they stop counting among its members
    (``/grant`` by name looks only at members)."""
    person = await find_person(session, user.platform, user.user_id)
    if person is not None:
        await session.execute(
            delete(ChatMember).where(
                ChatMember.chat_id == chat_id, ChatMember.person_id == person.id
            )
        )


async def deactivate_chat(session: AsyncSession, chat_id: int, reason: str) -> list[Finished]:
    """Nothing more is sent to a chat that removed the bot: its pending outbox rows
    fail now. Returns them, so delivery receipts can count them."""
    await session.execute(
        update(Chat).where(Chat.id == chat_id).values(active=False, inactive_reason=reason[:256])
    )
    failed = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.chat_id == chat_id, OutboxRow.status == "pending")
        .values(status="failed", error=f"chat inactive: {reason}")
        .returning(OutboxRow.id, OutboxRow.dedupe_key)
    )
    return [Finished(row_id, key) for row_id, key in failed]


async def move_chat(session: AsyncSession, chat_id: int, new_platform_id: str) -> None:
    """Give a chat its new platform id (Telegram group → supergroup). If the new id
    was already registered separately, its row merges into the old one."""
    chat = await session.get(Chat, chat_id)
    if chat is None:
        return
    duplicate = await find_chat(session, chat.platform, new_platform_id)
    if duplicate is not None and duplicate.id != chat.id:
        await session.execute(
            update(OutboxRow).where(OutboxRow.chat_id == duplicate.id).values(chat_id=chat.id)
        )
        await session.delete(duplicate)
        await session.flush()
    chat.platform_chat_id = new_platform_id
    chat.active, chat.inactive_reason = True, ""


async def chat_tags(session: AsyncSession, chat: Chat) -> list[str]:
    return list(
        await session.scalars(
            select(ChatTag.tag).where(ChatTag.chat_id == chat.id).order_by(ChatTag.tag)
        )
    )


async def add_tags(session: AsyncSession, chat: Chat, tags: Iterable[str]) -> list[str]:
    existing = set(await chat_tags(session, chat))
    added = [tag for tag in dict.fromkeys(tags) if tag not in existing]
    session.add_all(ChatTag(chat_id=chat.id, tag=tag) for tag in added)
    return added


async def remove_tags(session: AsyncSession, chat: Chat, tags: Iterable[str]) -> int:
    result = await session.execute(
        delete(ChatTag).where(ChatTag.chat_id == chat.id, ChatTag.tag.in_(list(tags)))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def chat_ref(chat: Chat) -> ChatRef:
    """The platform-neutral address of a stored chat, for an Outgoing."""
    return ChatRef(chat.platform, chat.platform_chat_id, chat.title, ChatKind(chat.kind))


async def direct_chat(session: AsyncSession, person: Person, now: datetime) -> ChatRef:
    """The person's private chat with the bot, for personal reminders.

    On every platform we address it by the person's own id (a Telegram private
    chat's id is the user's id; the Discord adapter opens a DM channel for it).
    Telegram only delivers if they have started the bot; if not, the platform
    refuses, the outbox records why, and the chat is marked inactive.
    """
    ref = ChatRef(person.platform, person.platform_user_id, person.display_name, ChatKind.PRIVATE)
    chat = await find_chat(session, ref.platform, ref.chat_id)
    if chat is None:
        await register_chat(session, ref, now)
    return ref
