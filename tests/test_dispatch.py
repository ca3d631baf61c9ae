"""The sender's pure decisions (bot/outbox/policy.py): which row goes next, how long to
sleep, what becomes of a failed row."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pytest import approx

from bot.config import OutboxSettings
from bot.delivery import ChatMoved, Permanent, RetryAfter, Transient
from bot.outbox.policy import MIN_PAUSE, Fail, Retry, choose, pause, verdict


@dataclass(frozen=True)
class Row:
    id: int
    chat_row: int


def waits(**chats: float) -> dict[int, float]:
    return {int(name.removeprefix("c")): wait for name, wait in chats.items()}


def test_the_first_row_whose_chat_may_go_is_chosen_past_held_back_chats() -> None:
    buffer = [Row(1, 7), Row(2, 7), Row(3, 8), Row(4, 9)]
    asked: list[int] = []

    def wait_of(row: Row) -> float:
        asked.append(row.chat_row)
        return waits(c7=40.0, c8=0.0, c9=0.0)[row.chat_row]

    choice = choose(buffer, wait_of)
    assert choice.row == Row(3, 8)
    assert choice.held == [Row(1, 7), Row(2, 7)]  # they leave the buffer
    assert choice.waits == {7: 40.0}
    assert asked == [7, 8]  # each chat asked once; nothing after the choice


def test_with_every_chat_held_back_nothing_is_chosen_and_all_are_held() -> None:
    buffer = [Row(1, 7), Row(2, 8), Row(3, 7)]
    choice = choose(buffer, lambda row: waits(c7=3.0, c8=0.5)[row.chat_row])
    assert choice.row is None
    assert choice.held == buffer
    assert choice.waits == {7: 3.0, 8: 0.5}


def test_an_empty_buffer_chooses_nothing() -> None:
    choice = choose([], lambda row: 0.0)
    assert (choice.row, choice.held, choice.waits) == (None, [], {})


def test_the_loop_sleeps_until_the_soonest_thing_that_can_change() -> None:
    assert pause(100.0, look_again_at=101.0, holds=[], send_at=None) == 1.0
    assert pause(100.0, look_again_at=101.0, holds=[100.25, 130.0], send_at=None) == 0.25
    assert pause(100.0, look_again_at=101.0, holds=[130.0], send_at=100.03) == approx(0.03)


def test_the_loop_never_turns_without_sleeping() -> None:
    """Deadlines already past, or a clock that stands still, still sleep a little."""
    assert pause(100.0, look_again_at=99.0, holds=[98.0], send_at=100.0) == MIN_PAUSE


NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RETRIES = OutboxSettings(max_attempts=3, backoff_cap_seconds=5)


def lowest(low: float, _high: float) -> float:
    return low


def test_a_retry_after_is_honoured_exactly_and_costs_no_attempt() -> None:
    assert verdict(RetryAfter(7), 2, NOW, RETRIES) == Retry(NOW + timedelta(seconds=7), 2)


def test_a_moved_chat_is_tried_again_at_once() -> None:
    assert verdict(ChatMoved("-100"), 2, NOW, RETRIES) == Retry(NOW, 2)


def test_a_permanent_failure_is_final_and_says_whether_the_chat_is_gone() -> None:
    assert verdict(Permanent("no"), 0, NOW, RETRIES) == Fail(chat_gone=False)
    assert verdict(Permanent("kicked", chat_gone=True), 0, NOW, RETRIES) == Fail(chat_gone=True)


def test_transient_failures_back_off_exponentially_up_to_the_cap_then_fail() -> None:
    timeout = Transient("timed out")
    first = verdict(timeout, 0, NOW, RETRIES, jitter=lowest)
    assert first == Retry(NOW + timedelta(seconds=1), 1)  # 2 s, jittered down to half
    capped = verdict(timeout, 1, NOW, dataclasses.replace(RETRIES, backoff_cap_seconds=3), lowest)
    assert capped == Retry(NOW + timedelta(seconds=1.5), 2)  # 4 s capped at 3, halved
    assert verdict(timeout, 2, NOW, RETRIES) == Fail()  # the third attempt was the last
