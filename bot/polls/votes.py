"""Votes: a press on a poll's button, recorded in batches, answered after commit.

Presses come by the thousand when a poll goes to fifty chats, so they skip the
core's two transactions per event (``Registry.quick_button``) and go through a
:class:`VoteRecorder`, which writes them by *group commit*: the first press starts
a write at once; presses arriving while it is being written wait and go together
in the next one, as one transaction of a few set-based statements
(:func:`storage.polls.record_votes`). A lone press costs one short transaction; a
crowd costs one per batch. Each press is answered only after its batch committed,
with what the presser's ballot now says ("Your vote: B").
"""

from __future__ import annotations

import asyncio

from bot.context import STALE_BUTTON
from bot.polls.copies import schedule_refresh
from bot.polls.render import notice
from bot.services import Services
from bot.types import ButtonIn
from bot.values import button_id
from storage.polls import VoteIn, VoteOutcome, VoteStatus, record_votes

CLOSED = "This poll has closed."
# Presses per transaction: big enough to carry a crowd, small enough to commit quickly.
BATCH = 2000


class VoteRecorder:
    """Group commit for one app's presses (each app builds its own registry, and so
    its own recorder)."""

    def __init__(self, max_batch: int = BATCH) -> None:
        self.max_batch = max_batch
        self._waiting: list[tuple[VoteIn, asyncio.Future[VoteOutcome]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def press(self, services: Services, event: ButtonIn) -> str:
        """The quick-button handler for ``vote:<poll>:<option>``."""
        vote = parse_vote(event)
        if vote is None:
            return STALE_BUTTON
        outcome = await self.record(services, vote)
        if outcome.status is VoteStatus.CLOSED:
            return CLOSED
        if outcome.status is VoteStatus.UNKNOWN or outcome.poll is None:
            return STALE_BUTTON
        schedule_refresh(services, outcome.poll.id)
        return notice(outcome.poll, outcome.choices)

    async def record(self, services: Services, vote: VoteIn) -> VoteOutcome:
        """Record one press with whatever else is waiting; returns after the commit."""
        future: asyncio.Future[VoteOutcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((vote, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(services), name="vote-recorder")
        return await future

    async def _write(self, services: Services) -> None:
        await asyncio.sleep(0)  # presses handed over in the same tick join the first batch
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            try:
                async with services.db.session() as session:
                    outcomes = await record_votes(
                        session, [vote for vote, _ in batch], services.clock.now()
                    )
            except asyncio.CancelledError:  # the app is stopping: nobody waits forever
                for _, future in batch + self._waiting:
                    future.cancel()
                self._waiting.clear()
                raise
            except Exception as error:  # each press's handler reports it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)


def parse_vote(event: ButtonIn) -> VoteIn | None:
    """``vote:<poll id>:<option index>`` as a vote, or ``None`` if it isn't one."""
    parts = event.data.split(":")
    if len(parts) != 3:
        return None
    poll, option = button_id(parts[1]), button_id(parts[2], low=0)
    if poll is None or option is None:
        return None
    return VoteIn(poll, option, event.chat, event.user)
