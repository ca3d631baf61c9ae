"""Small facts the adapters keep about their platform between runs, by key.

One row per fact, e.g. the hash of the slash commands last published to Discord,
so a restart publishes them again only when they changed (Discord rate-limits
command syncs, and discord.py's maintainers warn against syncing at every start).
"""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Database
from storage.models import Base


class PlatformState(Base):
    __tablename__ = "platform_state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class StateStore:
    """The ``platform_state`` table, for code outside a command's transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        async with self._db.session() as session:
            row = await session.get(PlatformState, key)
            return None if row is None else row.value

    async def set(self, key: str, value: str) -> None:
        async with self._db.session() as session:
            await session.merge(PlatformState(key=key, value=value))
