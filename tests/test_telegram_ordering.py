"""Updates at once, in order where it matters (adapters/telegram/ordering.py): a
chat's messages by chat, button presses by the person pressing."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from telegram import CallbackQuery, Chat, Message, Update, User

from adapters.telegram.ordering import UpdateOrder

NOW = datetime.now(UTC)


def message(number: int, chat_id: int) -> Update:
    chat = Chat(id=chat_id, type=Chat.GROUP)
    return Update(number, message=Message(number, NOW, chat))


def press(number: int, chat_id: int, user_id: int) -> Update:
    chat = Chat(id=chat_id, type=Chat.GROUP)
    presser = User(user_id, f"Member {user_id}", is_bot=False)
    query = CallbackQuery(str(number), presser, "instance", Message(1, NOW, chat), data="vote:1:0")
    return Update(number, callback_query=query)


class Run:
    """Processes updates through one UpdateOrder, noting when each finishes."""

    def __init__(self) -> None:
        self.order = UpdateOrder()
        self.done: list[str] = []
        self.tasks: list[asyncio.Task[None]] = []

    def start(self, update: Update, name: str, gate: asyncio.Event | None = None) -> None:
        async def work() -> None:
            if gate is not None:
                await gate.wait()
            self.done.append(name)

        job: Coroutine[Any, Any, None] = work()
        self.tasks.append(asyncio.create_task(self.order.process_update(update, job)))

    async def settle(self) -> None:
        await asyncio.sleep(0.01)


async def test_one_chats_messages_run_in_order_while_other_chats_go_ahead() -> None:
    run, slow_may_finish = Run(), asyncio.Event()
    run.start(message(1, 1), "chat 1, first", slow_may_finish)
    run.start(message(2, 1), "chat 1, second")
    run.start(message(3, 2), "chat 2")
    await run.settle()
    assert run.done == ["chat 2"]  # not held up by chat 1's slow update
    slow_may_finish.set()
    await asyncio.gather(*run.tasks)
    assert run.done == ["chat 2", "chat 1, first", "chat 1, second"]
    assert run.order._locks == {}  # idle chats are forgotten


async def test_presses_in_one_chat_go_at_once_but_one_persons_presses_stay_in_order() -> None:
    run, slow_may_finish = Run(), asyncio.Event()
    run.start(press(1, 1, user_id=7), "member 7, first", slow_may_finish)
    run.start(press(2, 2, user_id=7), "member 7, second, in another chat")
    run.start(press(3, 1, user_id=8), "member 8, same chat")
    await run.settle()
    assert run.done == ["member 8, same chat"]  # not behind member 7's press in chat 1
    slow_may_finish.set()
    await asyncio.gather(*run.tasks)
    assert run.done[1:] == ["member 7, first", "member 7, second, in another chat"]
    assert run.order._locks == {}


async def test_a_chat_flooding_past_every_slot_holds_up_no_other_chat() -> None:
    """More updates for one chat than there are slots: they wait for their turn,
    not for slots, so another chat's update goes at once."""
    run, flood_may_finish = Run(), asyncio.Event()
    run.order = UpdateOrder(max_concurrent_updates=4)
    for number in range(10):
        run.start(message(number, 1), f"flood {number}", flood_may_finish)
    run.start(message(99, 2), "other chat")
    await run.settle()
    assert run.done == ["other chat"]
    flood_may_finish.set()
    await asyncio.gather(*run.tasks)
    assert run.done[1:] == [f"flood {number}" for number in range(10)]
