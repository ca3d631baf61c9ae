"""The Telegram adapter's button presses: every press answered, whatever the core does."""

from __future__ import annotations

import asyncio

from adapters.telegram.incoming import ANSWERS_AT_ONCE, BUTTON_FAILED
from bot.types import ButtonIn, Event, EventResult
from tests.fakes.telegram.api import callback_update, user
from tests.telegram_adapter.harness import (
    ADA,
    DEPOT,
    DEPOT_REF,
    QUIET_RETRY_AFTER,
    TIMEOUT,
    Harness,
    ada_ref,
)

pytestmark = QUIET_RETRY_AFTER


# --- buttons -------------------------------------------------------------------------


async def test_button_press_is_answered_with_the_notice(tg: Harness) -> None:
    tg.reply = lambda _event: EventResult(notice="Vote counted")
    tg.api.push(callback_update("poll:7:yes", DEPOT, ADA, query_id="q1"))

    event = await tg.next_event()
    answer = await tg.api.wait_for_call("answerCallbackQuery")

    assert event == ButtonIn(DEPOT_REF, ada_ref(), "poll:7:yes")
    assert answer == {"callback_query_id": "q1", "text": "Vote counted"}


async def test_button_press_with_no_notice_is_still_answered(tg: Harness) -> None:
    tg.api.push(callback_update("noop", DEPOT, ADA, query_id="q2"))

    answer = await tg.api.wait_for_call("answerCallbackQuery")

    assert answer == {"callback_query_id": "q2"}


async def test_button_press_is_answered_when_the_core_fails(tg: Harness) -> None:
    def reply(_event: Event) -> EventResult:
        raise RuntimeError("unknown button")

    tg.reply = reply
    tg.api.push(callback_update("stale:1", DEPOT, ADA, query_id="q3"))

    answer = await tg.api.wait_for_call("answerCallbackQuery")

    assert answer == {"callback_query_id": "q3", "text": BUTTON_FAILED}


async def test_a_crowds_presses_are_all_answered_a_few_at_a_time(tg: Harness) -> None:
    """Answers wait for each other in the adapter, not in httpcore's pool (where
    each waiting request makes every other one dearer)."""
    tg.api.delay("answerCallbackQuery", 0.05)
    crowd = [user(200 + n, f"Member {n}") for n in range(3 * ANSWERS_AT_ONCE)]
    tg.api.push(
        *(callback_update("noop", DEPOT, who, query_id=f"c{n}") for n, who in enumerate(crowd))
    )

    most_at_once = 0
    async with asyncio.timeout(TIMEOUT):
        while len(answers := tg.api.calls_to("answerCallbackQuery")) < len(crowd):
            in_flight = [
                c for c in tg.api.calls if c.method == "answerCallbackQuery" and not c.status
            ]
            most_at_once = max(most_at_once, len(in_flight))
            await asyncio.sleep(0.005)

    assert {a["callback_query_id"] for a in answers} == {f"c{n}" for n in range(len(crowd))}
    assert 1 < most_at_once <= ANSWERS_AT_ONCE
