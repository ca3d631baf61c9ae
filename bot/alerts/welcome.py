"""A short welcome for someone who joins a chat, with that chat's next pickets and
meetings — so new members are reached the day they arrive."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts.upcoming import upcoming
from bot.registry import Registry
from bot.services import Services
from bot.text import bold, join, rich
from bot.types import Content, Outgoing, UserRef
from storage.chats import chat_ref
from storage.models import Chat

SHOWN = 3  # pickets, and meetings: the welcome stays short
AHEAD = timedelta(days=31)


async def welcome(
    session: AsyncSession, services: Services, chat: Chat, user: UserRef
) -> list[Outgoing]:
    now = services.clock.now()
    found = await upcoming(
        session, chat, now, now + AHEAD, services.config.zone, only_pickets=True, limit=SHOWN
    )
    hello = rich("Welcome, ", bold(user.display_name or "friend"), "!")
    if not found:
        text = join(
            [hello, rich("Send /strikes to see strikes, ballots and pickets as they come.")]
        )
    else:
        text = join(
            [
                hello,
                rich("Coming up here — come and stand with us:"),
                *found.sections(),
                rich("Send /strikes for everything coming up."),
            ]
        )
    return [Outgoing(chat_ref(chat), Content(text))]


def register(registry: Registry) -> None:
    registry.on_member_joined(welcome)
