"""Keep each platform under its documented rate limits, in one place.

The sender asks :meth:`Pacer.wait_for` how long a message to a given chat must
wait, and calls :meth:`Pacer.record` when it sends one. Limits over *all* chats
are enforced as an even spacing (30/s → one every 33 ms) so that a reply never
waits behind a burst; limits per chat or per group are sliding windows (20 per
minute to a group may go at once, then wait), exactly as the platforms count them.

A platform whose pacing sets ``catch_up_seconds`` gets the spacing as a schedule
rather than a gap: a send the event loop made late (a timer firing a millisecond
after its time, a slow database write) is made up by the next ones, for up to that
long behind, where a gap would lose every late wake-up for good — a twentieth of
the rate at 50 messages/s. A sliding window over all chats is then checked as
well, so catching up never passes the limit itself.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.delivery import Pacing, Scope

# Our clock and the platform's differ by network jitter; a little slack keeps us
# just under a limit instead of bouncing off it.
SLACK_FACTOR = 1.01
SLACK_SECONDS = 0.005
# Sends that catch up go out close together and reach the platform unevenly; the
# window over all chats leaves this much more room, so it never counts one too many.
JITTER_SECONDS = 0.02
ALL_CHATS = ""


@dataclass
class _Window:
    count: int
    seconds: float
    times: dict[str, deque[float]] = field(default_factory=dict)

    def wait(self, key: str, now: float) -> float:
        sent = self.times.get(key)
        if sent is None or len(sent) < self.count:
            return 0.0
        return max(0.0, sent[0] + self.seconds - now)

    def record(self, key: str, now: float) -> None:
        sent = self.times.setdefault(key, deque(maxlen=self.count))
        sent.append(now)

    def forget_idle(self, now: float) -> None:
        idle = [key for key, sent in self.times.items() if sent[-1] + self.seconds < now]
        for key in idle:
            del self.times[key]


class Pacer:
    def __init__(self, pacing: Pacing, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._spacing = 0.0
        self._next_any = 0.0
        self._catch_up = pacing.catch_up_seconds
        self._all: list[_Window] = []
        self._chat: list[_Window] = []
        self._group: list[_Window] = []
        for limit in pacing.limits:
            seconds = limit.per_seconds * SLACK_FACTOR + SLACK_SECONDS
            if limit.scope is Scope.ALL:
                self._spacing = max(self._spacing, seconds / limit.count)
                if self._catch_up:
                    self._all.append(_Window(limit.count, seconds + JITTER_SECONDS))
            else:
                target = self._chat if limit.scope is Scope.CHAT else self._group
                target.append(_Window(limit.count, seconds))
        self._last_cleanup = monotonic()

    def wait_for(self, chat: str, is_group: bool) -> float:
        """Seconds until a message to ``chat`` may go (0 means now)."""
        now = self._monotonic()
        wait = max(self._next_any - now, 0.0)
        for window in self._all:
            wait = max(wait, window.wait(ALL_CHATS, now))
        for window in self._windows(is_group):
            wait = max(wait, window.wait(chat, now))
        return wait

    def chat_wait(self, chat: str, is_group: bool) -> float:
        """Like :meth:`wait_for` but ignoring the all-chats spacing: tells whether
        this chat is blocked by its *own* limits."""
        now = self._monotonic()
        wait = 0.0
        for window in self._windows(is_group):
            wait = max(wait, window.wait(chat, now))
        return wait

    def record(self, chat: str, is_group: bool) -> None:
        now = self._monotonic()
        if self._spacing:
            self._next_any = max(self._next_any, now - self._catch_up) + self._spacing
        else:
            self._next_any = now
        for window in self._all:
            window.record(ALL_CHATS, now)
        for window in self._windows(is_group):
            window.record(chat, now)
        if now - self._last_cleanup > 60:
            self._last_cleanup = now
            for window in (*self._chat, *self._group):
                window.forget_idle(now)

    def _windows(self, is_group: bool) -> list[_Window]:
        return self._chat + self._group if is_group else self._chat
