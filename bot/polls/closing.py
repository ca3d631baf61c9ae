"""Closing a poll: at its ``--closes`` time or by ``/poll close``, exactly once.

The closing time lives in the ``polls`` table; the timer only wakes us, and every
open poll's closing is scheduled again at start (a closing missed while the bot was
down happens at once). Whoever closes first wins in the database
(:func:`storage.polls.claim_close`), so two processes, or a timer and a command,
never announce a result twice.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.copies import edit
from bot.polls.copies import schedule_refresh
from bot.polls.render import poll_content, result_text
from bot.polls.tally import load_tally
from bot.services import Services
from bot.text import Rich
from bot.types import Content, Outgoing
from storage.chats import chat_ref
from storage.copies import chats_of
from storage.polls import POSTED, Poll, claim_close, open_polls, unlink_ballots
from storage.scrub import scrub_after_commit

# The tables that held an anonymous poll's secret and its voters' keys.
SCRUBBED = ("polls", "poll_ballots")


def close_key(poll_id: int) -> str:
    return f"poll:{poll_id}:close"


def schedule_closing(services: Services, poll: Poll) -> None:
    if poll.closes_at is not None:
        callback = functools.partial(close_due, services, poll.id)
        services.timer.at(close_key(poll.id), poll.closes_at, callback)


async def restore(services: Services) -> None:
    """At start: schedule every open poll's closing, and bring its copies up to date
    (votes recorded just before a stop may not have been shown yet)."""
    async with services.db.session() as session:
        polls = await open_polls(session)
    for poll in polls:
        schedule_closing(services, poll)
        schedule_refresh(services, poll.id, delay=timedelta(0))


async def close_due(services: Services, poll_id: int) -> None:
    """The timer's callback: close and announce in every chat the poll went to."""
    async with services.db.session() as session:
        closed = await close_poll(session, services, poll_id)
        messages = closed[1] if closed else []
        await services.outbox.enqueue(session, messages)


async def close_poll(
    session: AsyncSession, services: Services, poll_id: int
) -> tuple[Rich, list[Outgoing]] | None:
    """Close the poll now, unless it already is: count, break an anonymous poll's
    voter links, show the final chart on every copy (without buttons), and return
    the result with one announcement per chat. ``None`` if it was already closed."""
    poll = await claim_close(session, poll_id, services.clock.now())
    if poll is None:
        return None
    tally = await load_tally(session, poll)
    if poll.anonymous:
        await unlink_ballots(session, poll.id)
        # The secret and the voters' keys are deleted; scrub them from the files.
        await scrub_after_commit(session, services.db, SCRUBBED, services.clock.now())
    zone = services.config.zone
    await edit(session, services, POSTED, poll.id, poll_content(poll, tally, zone))
    result = result_text(poll, tally, zone)
    messages = [
        Outgoing(chat_ref(chat), Content(result), dedupe_key=f"poll:{poll.id}:result:{chat.id}")
        for chat in await chats_of(session, POSTED, poll.id)
    ]
    return result, messages
