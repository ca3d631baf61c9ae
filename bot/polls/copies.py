"""The live tally on every posted copy of a poll.

A press does not edit anything itself: it asks for a refresh a few seconds later
(one per poll at a time, :data:`REFRESH_DELAY`), which counts once and edits every
copy through the outbox. The outbox coalesces edits of one message and paces each
chat, so a poll getting hundreds of votes a second costs each chat one edit every
five seconds: twelve of Telegram's twenty messages a minute in a group, leaving the
rest for the chat's other news. A copy is edited only when what it shows has
changed (``Poll.shown``).
"""

from __future__ import annotations

import functools
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.polls.render import hidden, poll_content
from bot.polls.tally import load_tally
from bot.services import Services
from bot.types import Content
from storage.polls import Poll, posts

REFRESH_DELAY = timedelta(seconds=5)


def refresh_key(poll_id: int) -> str:
    return f"poll:{poll_id}:refresh"


def schedule_refresh(services: Services, poll_id: int, delay: timedelta = REFRESH_DELAY) -> None:
    """Refresh the copies after ``delay``, unless a refresh is already on its way."""
    key = refresh_key(poll_id)
    if services.timer.when(key) is None:
        when = services.clock.now() + delay
        services.timer.at(key, when, functools.partial(refresh, services, poll_id))


async def refresh(services: Services, poll_id: int) -> None:
    async with services.db.session() as session:
        poll = await session.get(Poll, poll_id)
        if poll is None or poll.closed_at is not None:
            return
        tally = await load_tally(session, poll)
        summary = tally.summary(hidden(poll))
        if summary == poll.shown:
            return
        poll.shown = summary
        content = poll_content(poll, tally, services.config.zone)
        await edit_copies(session, services, poll, content)


async def edit_copies(
    session: AsyncSession, services: Services, poll: Poll, content: Content
) -> None:
    """Queue an edit of every copy sent."""
    copies = [
        post.outbox_id
        for post, _chat in await posts(session, poll.id)
        if post.outbox_id is not None
    ]
    await services.outbox.enqueue_edits(session, copies, content)
