"""The Discord adapter's pacing: never past Discord's limits, and late wake-ups made up."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.discord import PACING
from bot.outbox.pacing import IN_FLIGHT_SECONDS, Pacer

# --- pacing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PacedSend:
    start: float
    answered: float  # when its answer came back: the platform counted it in between
    chat: str


def paced_sends(
    late: list[float], chats: int, round_trips: list[float] | None = None
) -> list[PacedSend]:
    """When a sender following Discord's pacing sends, if each wake-up is late by
    ``late[n]`` (a busy loop, a slow database write), writing to ``chats`` channels,
    each send answered ``round_trips[n]`` seconds after it starts (with one send in
    flight at a time, as a worst case for the windows: every stamp is its answer)."""
    now = 0.0
    pacer = Pacer(PACING, monotonic=lambda: now)
    sent = []
    for n, lateness in enumerate(late):
        chat = str(n % chats)
        now += pacer.wait_for(chat, True) + lateness
        while (wait := pacer.wait_for(chat, True)) > 0:  # the sender asks again on waking
            now += wait
        start = now
        stamp = pacer.record(chat, True)
        if round_trips is not None:
            now += round_trips[n % len(round_trips)]
            pacer.done(stamp)
        sent.append(PacedSend(start, now if round_trips else start, chat))
    return sent


def counted_apart(sends: list[PacedSend], count: int) -> list[float]:
    """For each send and the one ``count`` sends later, the least time the platform
    can have seen between them (the first counted as late as it may have been: at
    its answer, or the in-flight allowance after its start, whichever came first)."""
    return [
        last.start - min(first.answered, first.start + IN_FLIGHT_SECONDS)
        for first, last in zip(sends, sends[count:], strict=False)
    ]


@settings(max_examples=60, deadline=None)
@given(
    late=st.lists(st.sampled_from([0.0, 0.0, 0.001, 0.002, 0.01, 0.05, 0.3]), max_size=300),
    chats=st.integers(1, 40),
    round_trips=st.none() | st.lists(st.sampled_from([0.0, 0.003, 0.02, 0.2]), min_size=1),
)
def test_pacing_never_passes_discords_limits(
    late: list[float], chats: int, round_trips: list[float] | None
) -> None:
    sent = paced_sends(late, chats, round_trips)

    assert all(apart > 1.0 for apart in counted_apart(sent, 50))
    for chat in {send.chat for send in sent}:
        mine = [send for send in sent if send.chat == chat]
        assert all(apart > 5.0 for apart in counted_apart(mine, 5))


def test_pacing_makes_up_for_late_wake_ups() -> None:
    sent = paced_sends([0.002] * 1000, chats=1000)  # every wake-up 2 ms late

    assert len(sent) / sent[-1].start >= 0.95 * 50  # messages per second
