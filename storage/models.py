"""The tables. Only what the bot needs to work — a person is a platform id and a
display name, nothing more — so that ``/forgetme`` can erase someone by deleting
one row (everything personal hangs off it with ``ON DELETE CASCADE``; what cannot,
their private chat and their name in stored messages, :mod:`storage.personal` handles).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bot.clock import UTC


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


BigId = BigInteger().with_variant(Integer(), "sqlite")
# Ids appear in buttons; SQLite would otherwise reuse a deleted row's id, and an old
# button could then act on a new row.
NO_ID_REUSE = {"sqlite_autoincrement": True}


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "platform_chat_id"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_chat_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(256), default="")
    kind: Mapped[str] = mapped_column(String(16), default="group")
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the organisation: approved by an admin or TULO (/join, /chats pending).
    # Only approved group chats can be tagged and receive announcements.
    approved: Mapped[bool] = mapped_column(default=False)
    inactive_reason: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatMember(Base):
    """Who has been seen in which chat: lets ``/grant`` find people by name."""

    __tablename__ = "chat_members"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RoleGrant(Base):
    """A role given by ``/grant``. ``chat_id`` is set for an organiser of one chat
    and NULL for roles that hold everywhere (tulo, admin)."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("person_id", "role", "chat_id"), NO_ID_REUSE)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatTag(Base):
    """``key:value`` labels on a chat (``region:west-midlands``) that announcements target."""

    __tablename__ = "chat_tags"

    chat_id: Mapped[int] = mapped_column(
        ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)


class Invite(Base):
    """A one-time code an admin or TULO hands out so a new chat can ``/join``.

    Only a hash of the code is stored: a leaked database shows no usable codes.
    ``used_at`` is set by the one ``/join`` that redeems it.
    """

    __tablename__ = "invites"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_chat_id: Mapped[int | None] = mapped_column(ForeignKey("chats.id", ondelete="SET NULL"))


class OutboxRow(Base):
    """One message to send, edit or delete — written before anything leaves the bot.

    ``status`` goes pending → sending → sent | failed; a row stuck in *sending*
    past ``lease_until`` (its sender died) is claimed again. ``lane`` 0 is command
    replies, 1 is bulk, so a broadcast never makes ``/help`` wait. An edit or delete
    names its ``target_id`` row and uses that row's platform message ids, so it
    works whether the original was sent before or after a restart.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "platform", "status", "lane", "next_attempt_at"),
        NO_ID_REUSE,
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    op: Mapped[str] = mapped_column(String(8), default="send")
    lane: Mapped[int] = mapped_column(default=1)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Indexed: an edit looks for a pending edit of the same target.
    target_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox.id", ondelete="CASCADE"), index=True
    )
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_ids: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
