"""Updates: chats at once, each chat in order (adapters/telegram/ordering.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update

from adapters.telegram.ordering import PerChatOrder


def update(number: int, chat_id: int) -> Update:
    chat = Chat(id=chat_id, type=Chat.GROUP)
    return Update(number, message=Message(number, datetime.now(UTC), chat))


async def test_one_chats_updates_run_in_order_while_other_chats_go_ahead() -> None:
    order = PerChatOrder()
    done: list[str] = []
    slow_may_finish = asyncio.Event()

    async def slow() -> None:
        await slow_may_finish.wait()
        done.append("chat 1, first")

    async def record(name: str) -> None:
        done.append(name)

    first = asyncio.create_task(order.process_update(update(1, 1), slow()))
    second = asyncio.create_task(order.process_update(update(2, 1), record("chat 1, second")))
    other = asyncio.create_task(order.process_update(update(3, 2), record("chat 2")))
    await other
    assert done == ["chat 2"]  # not held up by chat 1's slow update
    slow_may_finish.set()
    await asyncio.gather(first, second)
    assert done == ["chat 2", "chat 1, first", "chat 1, second"]
    assert order._locks == {}  # idle chats are forgotten
