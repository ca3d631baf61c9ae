"""Chats, people and chat tags: registered on first contact, kept minimal."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.types import ChatKind, ChatRef, Finished, UserRef
from storage.db import insert_or_skip
from storage.models import Chat, ChatMember, ChatTag, Invite, OutboxRow, Person


async def register_chat(
    session: AsyncSession, ref: ChatRef, now: datetime, *, approve_new: bool = False
) -> Chat:
    """The chat's row, created on first contact (approved at once if
    ``approve_new``); title and kind kept current. A chat we hear from again is
    active again (the bot was re-added)."""
    chat = await find_chat(session, ref.platform, ref.chat_id)
    if chat is None:
        await session.execute(
            insert_or_skip(session)(Chat)
            .values(
                platform=ref.platform,
                platform_chat_id=ref.chat_id,
                title=ref.title,
                kind=ref.kind.value,
                active=True,
                approved=approve_new,
                inactive_reason="",
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["platform", "platform_chat_id"])
        )
        chat = await find_chat(session, ref.platform, ref.chat_id)
        assert chat is not None  # inserted now, or by another transaction just before
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
    """The person's row, created on first contact. Two first contacts at once (two
    presses, two processes) create it once: the second insert is skipped, and both
    read the one row."""
    person = await find_person(session, ref.platform, ref.user_id)
    if person is None:
        await session.execute(
            insert_or_skip(session)(Person)
            .values(
                platform=ref.platform,
                platform_user_id=ref.user_id,
                display_name=ref.display_name,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["platform", "platform_user_id"])
        )
        person = await find_person(session, ref.platform, ref.user_id)
        assert person is not None  # inserted now, or by another transaction just before
    elif ref.display_name and person.display_name != ref.display_name:
        person.display_name = ref.display_name
    if chat is not None and await session.get(ChatMember, (chat.id, person.id)) is None:
        await session.execute(
            insert_or_skip(session)(ChatMember)
            .values(chat_id=chat.id, person_id=person.id)
            .on_conflict_do_nothing(index_elements=["chat_id", "person_id"])
        )
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


async def member_chats(session: AsyncSession, private: Chat) -> list[Chat]:
    """The approved group chats where the person of a ``private`` chat has used
    the bot. A private chat is addressed by its person's own id on every platform
    (see :func:`direct_chat`), which is how the person is found."""
    return list(
        await session.scalars(
            select(Chat)
            .join(ChatMember, ChatMember.chat_id == Chat.id)
            .join(Person, Person.id == ChatMember.person_id)
            .where(
                Person.platform == private.platform,
                Person.platform_user_id == private.platform_chat_id,
                Chat.approved.is_(True),
                Chat.active.is_(True),
                Chat.kind != ChatKind.PRIVATE.value,
            )
            .order_by(Chat.id)
        )
    )


async def chats_waiting(session: AsyncSession) -> list[Chat]:
    """Group chats that talked to the bot and are not (or no longer) approved."""
    return list(
        await session.scalars(
            select(Chat)
            .where(
                Chat.approved.is_(False),
                Chat.active.is_(True),
                Chat.kind != ChatKind.PRIVATE.value,
            )
            .order_by(Chat.id)
        )
    )


async def approved_chats(session: AsyncSession) -> list[tuple[Chat, list[str]]]:
    """Every approved group chat with its tags, oldest first."""
    chats = list(
        await session.scalars(
            select(Chat)
            .where(Chat.approved.is_(True), Chat.kind != ChatKind.PRIVATE.value)
            .order_by(Chat.id)
        )
    )
    tags: dict[int, list[str]] = {}
    for chat_id, tag in await session.execute(
        select(ChatTag.chat_id, ChatTag.tag).order_by(ChatTag.tag)
    ):
        tags.setdefault(chat_id, []).append(tag)
    return [(chat, tags.get(chat.id, [])) for chat in chats]


async def approve_every_chat(session: AsyncSession) -> None:
    """An open network (``[network] open = true``): every chat belongs."""
    await session.execute(update(Chat).where(Chat.approved.is_(False)).values(approved=True))


async def redeem_invite(session: AsyncSession, code_hash: str, chat_id: int, now: datetime) -> bool:
    """Use up the invite with this hash for ``chat_id``, if it is unused and
    unexpired; one statement, so two chats racing for one code cannot both win."""
    result = await session.execute(
        update(Invite)
        .where(Invite.code_hash == code_hash, Invite.used_at.is_(None), Invite.expires_at > now)
        .values(used_at=now, used_chat_id=chat_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def outbox_row_id(session: AsyncSession, dedupe_key: str) -> int | None:
    """The outbox row sent with ``dedupe_key`` (a question later edited to its answer)."""
    row_id: int | None = await session.scalar(
        select(OutboxRow.id).where(OutboxRow.dedupe_key == dedupe_key)
    )
    return row_id


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


async def started_chat(session: AsyncSession, person: Person) -> ChatRef | None:
    """The person's private chat with the bot if they have written to it and it
    still takes messages; ``None`` if not (unlike :func:`direct_chat`, which
    addresses it regardless, a Telegram bot may not write first)."""
    chat = await find_chat(session, person.platform, person.platform_user_id)
    if chat is None or not chat.active or chat.kind != ChatKind.PRIVATE.value:
        return None
    if await session.get(ChatMember, (chat.id, person.id)) is None:
        return None
    return chat_ref(chat)
