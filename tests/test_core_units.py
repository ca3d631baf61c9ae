"""Small pieces of the core's plumbing, on their own."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import SystemClock
from bot.delivery import Limit, Pacing, Scope
from bot.outbox.pacing import IN_FLIGHT_SECONDS, SLACK_FACTOR, SLACK_SECONDS, Pacer
from bot.registry import Registry
from bot.scheduler import Timer
from bot.text import Rich, bold, rich, split
from bot.types import Finished


async def test_delivery_hooks_hear_only_of_rows_with_their_key_prefix() -> None:
    heard: list[list[Finished]] = []

    async def hook(_session: Any, _services: Any, rows: list[Finished]) -> None:
        heard.append(rows)

    registry = Registry()
    registry.on_delivered("broadcast:", hook)
    mine = Finished(3, "broadcast:7:12")
    await registry.finished(None, None, [Finished(1, None), Finished(2, "poll:1:4"), mine])  # type: ignore[arg-type]
    await registry.finished(None, None, [Finished(4, "poll:1:5")])  # type: ignore[arg-type]
    assert heard == [[mine]]  # and no call at all for a batch with none of its rows


async def test_stopping_the_timer_lets_a_running_callback_finish() -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.set()

    clock = SystemClock()
    timer = Timer(clock)
    timer.start()
    timer.at("slow", clock.now(), slow)
    async with asyncio.timeout(5):
        await started.wait()
        await timer.stop()
    assert finished.is_set()


async def test_the_timer_tells_when_one_key_is_due_until_it_runs_or_is_cancelled() -> None:
    async def nothing() -> None:
        pass

    clock = SystemClock()
    timer = Timer(clock)
    later = clock.now() + timedelta(hours=1)
    assert timer.when("poll:1:refresh") is None
    timer.at("poll:1:refresh", later, nothing)
    assert timer.when("poll:1:refresh") == later
    assert timer.when("poll:2:refresh") is None
    timer.cancel("poll:1:refresh")
    assert timer.when("poll:1:refresh") is None


def test_a_quick_answer_frees_its_place_in_the_window() -> None:
    """The window counts a send from its answer (it cannot have been counted later),
    so quick answers cost the pacing almost nothing; an unanswered send counts from
    its start plus the in-flight allowance."""
    now = 0.0
    pacer = Pacer(Pacing((Limit(1, 1.0, Scope.CHAT),)), monotonic=lambda: now)
    answered = pacer.record("a", True)
    now = 0.002
    pacer.done(answered)
    pacer.record("b", True)  # never answered

    assert pacer.wait_for("a", True) == pytest.approx(1.0 + SLACK_SECONDS)
    assert pacer.wait_for("b", True) == pytest.approx(IN_FLIGHT_SECONDS + 1.0 + SLACK_SECONDS)


def test_pacing_makes_up_late_sends_but_not_idle_time() -> None:
    """Thirty a second: after a pause the first sends are spaced, not a burst (which
    the window would hold back a second later, and every reply behind it); a send
    made late by a busy loop is made up by the next."""
    now = 100.0
    pacing = Pacing((Limit(30, 1.0, Scope.ALL),), catch_up_seconds=0.1)
    pacer = Pacer(pacing, monotonic=lambda: now)
    assert pacer.wait_for("a", True) == 0.0
    pacer.record("a", True)
    spacing = pacer.wait_for("b", True)
    assert spacing == pytest.approx((1.0 * SLACK_FACTOR + SLACK_SECONDS) / 30)

    now += spacing + 0.01  # woke 10 ms late
    pacer.record("b", True)
    assert pacer.wait_for("c", True) == pytest.approx(spacing - 0.01)


def test_a_message_that_fits_is_measured_once_and_kept_whole() -> None:
    measured: list[str] = []

    def measure(message: Rich) -> int:
        measured.append(str(message))
        return len(str(message))

    message = rich("Picket at ", bold("Depot"), "\nGate 2\nFrom 06:00")
    assert split(message, 100, measure) == [message]
    assert len(measured) == 1
    assert [str(part) for part in split(message, 17, measure)] == [
        "Picket at Depot",
        "Gate 2\nFrom 06:00",
    ]
