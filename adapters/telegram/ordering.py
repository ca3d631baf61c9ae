"""Handle updates concurrently, keeping in order those whose order matters.

One update at a time would keep everything in order but makes a poll's thousand
presses across fifty village groups queue behind each other. PTB lets an
application choose how updates are processed concurrently (``BaseUpdateProcessor``);
this one serialises updates that share an *order key*:

* a chat's messages and membership changes, by chat — a group's upgrade
  (``ChatMoved``) must reach the core before that group's next command;
* button presses, by the person pressing — their second press on a poll must not
  overtake their first, wherever they press. Presses are *not* serialised per chat:
  each waits for its vote's commit, and holding a busy group's presses in single
  file behind that would cap the group at a few presses a second and keep every
  batch of votes small.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates handled at once. A press holds its slot until its vote is committed and
# answered, so this is also the most presses one batch of votes can gather.
CONCURRENT_UPDATES = 256

OrderKey = tuple[str, int]


# What the base class's own limit is set to: it takes a slot before an update's
# turn, so the limit is kept here instead, after it (see UpdateOrder).
UNLIMITED = 1 << 30


class UpdateOrder(BaseUpdateProcessor):
    """An update waits for its turn (its order key's lock) *before* it takes one of
    the ``max_concurrent_updates`` slots: a thousand commands flooding one chat
    hold one slot between them, not all of them, so another chat's update never
    queues behind them."""

    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES) -> None:
        super().__init__(UNLIMITED)
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._locks: dict[OrderKey, asyncio.Lock] = {}
        self._waiting: dict[OrderKey, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = order_key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # nobody else waits: forget the key
                del self._waiting[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def order_key(update: object) -> OrderKey | None:
    """What ``update`` must stay in order with; ``None`` for nothing."""
    if not isinstance(update, Update):
        return None
    if update.callback_query is not None:
        return ("presser", update.callback_query.from_user.id)
    chat = update.effective_chat
    return None if chat is None else ("chat", chat.id)
