"""The welcome a newcomer gets: the chat's own words, then what is really coming up
here that they could join in with.

Each kind of thing coming up is a :class:`Source`: its lines for this chat and the
command that lists all of it. A command is named only when its source found
something, so a newcomer is never sent to a command that would answer "nothing"
(a food-bank hub has no strikes; /strikes there is empty). A capability adds
what it has by adding a source to :data:`SOURCES`, as rotas add their dates
with places free (pointing at /rota).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.alerts import upcoming
from bot.meetings import meeting_lines
from bot.rotas import help_wanted
from bot.text import Rich, Span, bold, join, rich
from storage.models import Chat
from storage.newcomers import NewcomerSettings
from storage.polls import open_polls

SHOWN = 3  # of each kind: the welcome stays short
AHEAD = timedelta(days=31)
MAX_WELCOME = 600  # characters of a chat's own words
DEFAULT_WELCOME = "Welcome, {name}! Glad to have you in {chat}."
_PLACEHOLDER = re.compile(r"\{(name|chat)\}")


@dataclass(frozen=True)
class Found:
    """What one source found: its lines (heading included) and the command that
    lists all of it."""

    lines: list[Rich]
    command: str


# One kind of thing coming up: what of it concerns the chat, from now on.
Source = Callable[[AsyncSession, Chat, datetime, ZoneInfo], Awaitable[Found]]


async def _news(session: AsyncSession, chat: Chat, now: datetime, zone: ZoneInfo) -> Found:
    """Strikes, ballots closing and pickets for this chat's tags."""
    found = await upcoming(session, chat, now, now + AHEAD, zone, meetings=False, limit=SHOWN)
    return Found(found.sections(), "/strikes")


async def _meeting(session: AsyncSession, chat: Chat, now: datetime, zone: ZoneInfo) -> Found:
    lines = await meeting_lines(session, chat, now, now + AHEAD, zone)
    return Found([rich(bold("Next meeting")), lines[0]] if lines else [], "/meetings")


async def _polls(session: AsyncSession, chat: Chat, now: datetime, zone: ZoneInfo) -> Found:
    polls = (await open_polls(session, [chat.id]))[:SHOWN]
    lines = [rich(f"• {poll.question} (poll #{poll.id})") for poll in polls]
    return Found(
        [rich(bold("Open polls — vote on their messages here")), *lines] if polls else [], "/polls"
    )


async def _rotas(session: AsyncSession, chat: Chat, now: datetime, zone: ZoneInfo) -> Found:
    """Rota dates here with places still free."""
    lines = await help_wanted(session, chat.id, now, SHOWN)
    return Found([rich(bold("Help wanted on the rota")), *lines] if lines else [], "/rota")


SOURCES: tuple[Source, ...] = (_news, _meeting, _rotas, _polls)


def greeting(words: str, name: str, chat: Chat) -> Rich:
    """The chat's words with ``{name}`` (in bold) and ``{chat}`` filled in. Plain
    replacement, not ``str.format``: people's braces stay as they typed them."""
    parts: list[Rich | Span | str] = []
    for index, piece in enumerate(_PLACEHOLDER.split(words or DEFAULT_WELCOME)):
        if index % 2 == 0:
            parts.append(piece)
        else:
            parts.append(bold(name or "friend") if piece == "name" else chat_name(chat))
    return rich(*parts)


def chat_name(chat: Chat) -> str:
    return chat.title or "this chat"


async def welcome_text(
    session: AsyncSession,
    chat: Chat,
    name: str,
    settings: NewcomerSettings | None,
    now: datetime,
    zone: ZoneInfo,
    kept_days: int,
) -> Rich:
    """The whole welcome: greeting, what is coming up, where to see more, and — when
    the chat follows newcomers up — what is kept about them, and for how long."""
    lines = [greeting(settings.welcome_text if settings else "", name, chat)]
    commands = []
    for source in SOURCES:
        found = await source(session, chat, now, zone)
        if found.lines:
            lines += found.lines
            commands.append(found.command)
    if commands:
        lines.insert(1, rich("Coming up here — come and join in:"))
        lines.append(rich("More: " + " · ".join(commands)))
    else:
        lines.append(rich("Nothing is planned here just yet: it will be posted here as it comes."))
    if settings is not None and settings.follow_up:
        kept = f", for {kept_days} days at most" if kept_days else ""
        lines.append(
            rich(
                "An organiser will be in touch to say hello; until then I keep only your "
                f"name and when you joined{kept}."
            )
        )
    return join(lines)
