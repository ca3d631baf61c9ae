"""The sender's decisions, kept free of I/O so that they can be tested alone: which
claimed row goes next, how long the loop may sleep before it looks again, and what
becomes of a row whose delivery failed.

The first two exist so that the sender never turns without waiting. It once did: a
group's window of 20 messages a minute was full, a row for it sat in the buffer, and
the loop re-checked it 23 million times without awaiting anything, while every other
chat and every timer waited. Now a row whose chat is held back by its own limits
leaves the buffer (the sender puts it back in the table and claims none of that
chat's rows until its wait is over), and the loop sleeps until the soonest moment
anything can change: a row may go, a held-back chat's wait ends, or it is time to
look in the table again — unless new work, a freed send slot or a finished claim
wakes it first.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from bot.config import OutboxSettings
from bot.delivery import ChatMoved, DeliveryError, Permanent, RetryAfter

# The shortest sleep: a wait the pacer reckons in microseconds is not worth a turn.
MIN_PAUSE = 0.0005


class Addressed(Protocol):
    """A claimed row, as far as choosing goes: the chat it is for."""

    @property
    def chat_row(self) -> int: ...


Row = TypeVar("Row", bound=Addressed)


@dataclass(frozen=True)
class Choice(Generic[Row]):
    """What :func:`choose` found in the buffer."""

    row: Row | None  # the first row whose chat may be sent to now
    # The rows before it, all for chats held back by their own limits, and each
    # such chat's wait in seconds: they leave the buffer, not to be looked at again
    # on every turn (with no row chosen: every row in the buffer).
    held: list[Row] = field(default_factory=list)
    waits: dict[int, float] = field(default_factory=dict)


def choose(buffer: Sequence[Row], wait_of: Callable[[Row], float]) -> Choice[Row]:
    """The first row of ``buffer`` (replies first, then oldest) whose chat may be sent
    to now, by ``wait_of`` (seconds until its chat's own limits let a message go);
    each chat's wait is asked once. Rows after the chosen one are not looked at."""
    waits: dict[int, float] = {}
    for index, row in enumerate(buffer):
        wait = waits.get(row.chat_row)
        if wait is None:
            wait = waits[row.chat_row] = wait_of(row)
        if wait <= 0:
            held = list(buffer[:index])
            return Choice(row, held, {chat: w for chat, w in waits.items() if w > 0})
    return Choice(None, list(buffer), waits)


def pause(
    now: float, *, look_again_at: float, holds: Sequence[float], send_at: float | None
) -> float:
    """Seconds the loop may sleep unless woken: until the soonest of the time to look
    in the table again, the end of a held-back chat's wait (``holds``: when each
    ends) and the moment the next row may go (``send_at``; ``None`` when no row
    waits only for the pacing). Never less than :data:`MIN_PAUSE`, so the loop
    cannot turn without sleeping even if a clock stands still."""
    soonest = min(look_again_at, *holds) if holds else look_again_at
    if send_at is not None:
        soonest = min(soonest, send_at)
    return max(MIN_PAUSE, soonest - now)


@dataclass(frozen=True)
class Retry:
    """Try the row again at ``at``, counting ``attempts`` failures so far."""

    at: datetime
    attempts: int


@dataclass(frozen=True)
class Fail:
    """The row fails for good; with ``chat_gone``, so does all else for its chat."""

    chat_gone: bool = False


def verdict(
    error: DeliveryError,
    attempts: int,
    now: datetime,
    settings: OutboxSettings,
    jitter: Callable[[float, float], float] = random.uniform,
) -> Retry | Fail:
    """What becomes of a row after ``error``, having failed ``attempts`` times before.

    A platform's "retry after" is honoured exactly and a moved chat is tried again at
    once (at its new address): neither counts as an attempt, since neither says
    anything is wrong with the message. A permanent failure is final. Anything else
    backs off exponentially, up to ``backoff_cap_seconds`` and with ``jitter`` so
    that rows failed together do not all come back together, until
    ``max_attempts``.
    """
    if isinstance(error, RetryAfter):
        return Retry(now + timedelta(seconds=error.seconds), attempts)
    if isinstance(error, ChatMoved):
        return Retry(now, attempts)
    if isinstance(error, Permanent):
        return Fail(chat_gone=error.chat_gone)
    if attempts + 1 >= settings.max_attempts:
        return Fail()
    attempts += 1
    delay = min(settings.backoff_cap_seconds, 2.0**attempts) * jitter(0.5, 1.0)
    return Retry(now + timedelta(seconds=delay), attempts)
