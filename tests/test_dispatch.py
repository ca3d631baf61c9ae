"""The sender's pure decisions (bot/outbox/policy.py): which row goes next, how long to
sleep, what becomes of a failed row."""

from __future__ import annotations

from dataclasses import dataclass

from pytest import approx

from bot.outbox.policy import MIN_PAUSE, choose, pause


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
