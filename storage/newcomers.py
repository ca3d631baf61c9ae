"""Newcomers: each chat's welcome, and the follow-up list of people who joined.

A newcomer on the list is the least that lets an organiser reach them: the name
and platform id they joined with, the chat, when, and who said they would make
contact. The row goes once they are marked contacted, at the retention cutoff
(``[retention] newcomers_days``), when the chat turns follow-up off, and with
``/forgetme`` — they have never used the bot, so nothing else hangs off them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.types import UserRef
from storage.alerts import claim
from storage.models import NO_ID_REUSE, Base, BigId, Chat, OutboxRow, Person, RoleGrant, UTCDateTime


class NewcomerSettings(Base):
    """A chat's own welcome (empty: the default words) and whether joiners go on
    its follow-up list. A chat without a row welcomes with the default words and
    keeps no list."""

    __tablename__ = "newcomer_settings"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    welcome_text: Mapped[str] = mapped_column(String(1000), default="")
    welcome_on: Mapped[bool] = mapped_column(default=True)
    follow_up: Mapped[bool] = mapped_column(default=False)


class Newcomer(Base):
    """Someone who joined a chat with follow-up on, until they are contacted.

    One row per person per chat (a join told twice — by a service message and a
    member update, or by two processes — is one row). ``claimed_by`` is the
    organiser who said "I'll contact them"; ``reminded_at`` is set when the
    unclaimed newcomer was raised again, so that happens once.
    """

    __tablename__ = "newcomers"
    __table_args__ = (UniqueConstraint("chat_id", "platform", "platform_user_id"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(256), default="")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


async def settings_of(session: AsyncSession, chat_id: int) -> NewcomerSettings:
    """The chat's settings row, made (with the defaults) if it has none yet."""
    found = await session.get(NewcomerSettings, chat_id)
    if found is None:
        found = NewcomerSettings(chat_id=chat_id, welcome_text="", welcome_on=True, follow_up=False)
        session.add(found)
    return found


async def add_newcomer(
    session: AsyncSession, chat_id: int, user: UserRef, now: datetime
) -> tuple[Newcomer, bool]:
    """Put ``user`` on the chat's list: their row, and whether this call added it
    (``False``: they were on it already — the same join told twice, or back before
    anyone contacted them), so nobody is told of them twice."""
    added = await claim(
        session,
        Newcomer,
        chat_id=chat_id,
        platform=user.platform,
        platform_user_id=user.user_id,
        display_name=user.display_name[:256],
        joined_at=now,
    )
    newcomer = await session.scalar(
        select(Newcomer).where(
            Newcomer.chat_id == chat_id,
            Newcomer.platform == user.platform,
            Newcomer.platform_user_id == user.user_id,
        )
    )
    assert newcomer is not None  # just added, or there already
    return newcomer, added


async def claim_newcomer(
    session: AsyncSession, newcomer_id: int, person_id: int, now: datetime
) -> bool:
    """Claim an unclaimed newcomer for ``person_id``; one statement, so of two
    organisers pressing at once exactly one wins."""
    result = await session.execute(
        update(Newcomer)
        .where(Newcomer.id == newcomer_id, Newcomer.claimed_by.is_(None))
        .values(claimed_by=person_id, claimed_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def waiting(session: AsyncSession, chat_ids: list[int]) -> list[tuple[Newcomer, str]]:
    """The chats' newcomers not yet contacted, oldest first, each with the name of
    whoever claimed them ("" if nobody has)."""
    rows = await session.execute(
        select(Newcomer, Person.display_name)
        .outerjoin(Person, Person.id == Newcomer.claimed_by)
        .where(Newcomer.chat_id.in_(chat_ids))
        .order_by(Newcomer.joined_at, Newcomer.id)
    )
    return [(newcomer, name or "") for newcomer, name in rows]


async def unreminded(session: AsyncSession) -> list[Newcomer]:
    """Newcomers nobody has claimed and who were not raised again yet."""
    return list(
        await session.scalars(
            select(Newcomer).where(Newcomer.claimed_by.is_(None), Newcomer.reminded_at.is_(None))
        )
    )


async def drop_chat_list(session: AsyncSession, chat_id: int) -> int:
    """Follow-up turned off: the chat's list goes."""
    result = await session.execute(delete(Newcomer).where(Newcomer.chat_id == chat_id))
    return int(getattr(result, "rowcount", 0) or 0)


async def people_with_roles(
    session: AsyncSession, roles: tuple[str, ...], chat_id: int | None
) -> list[Person]:
    """Holders of ``roles`` granted for ``chat_id`` (``None``: granted everywhere)."""
    where = RoleGrant.chat_id.is_(None) if chat_id is None else RoleGrant.chat_id == chat_id
    return list(
        await session.scalars(
            select(Person)
            .where(
                Person.id.in_(select(RoleGrant.person_id).where(RoleGrant.role.in_(roles), where))
            )
            .order_by(Person.id)
        )
    )


async def people_by_key(session: AsyncSession, keys: list[str]) -> list[Person]:
    """The people named as ``platform:id`` (the config's admins) who have used the bot."""
    found = []
    for key in keys:
        platform, _, ident = key.partition(":")
        person = await session.scalar(
            select(Person).where(Person.platform == platform, Person.platform_user_id == ident)
        )
        if person is not None:
            found.append(person)
    return found


async def sent_before(session: AsyncSession, key_prefix: str) -> bool:
    """Whether a message whose dedupe key starts with ``key_prefix`` was queued."""
    found = await session.scalar(
        select(OutboxRow.id).where(OutboxRow.dedupe_key.startswith(key_prefix)).limit(1)
    )
    return found is not None


async def newcomer_rows(session: AsyncSession, person: Person) -> list[tuple[Newcomer, Chat]]:
    """Where ``person`` is on a follow-up list (for /mydata)."""
    rows = await session.execute(
        select(Newcomer, Chat)
        .join(Chat, Chat.id == Newcomer.chat_id)
        .where(
            Newcomer.platform == person.platform,
            Newcomer.platform_user_id == person.platform_user_id,
        )
        .order_by(Newcomer.id)
    )
    return [(newcomer, chat) for newcomer, chat in rows]


async def forget_newcomer(session: AsyncSession, person: Person) -> None:
    """``/forgetme``: off every follow-up list."""
    await session.execute(
        delete(Newcomer).where(
            Newcomer.platform == person.platform,
            Newcomer.platform_user_id == person.platform_user_id,
        )
    )
