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
the rate at 50 messages/s. Only time since the send was first asked for is made
up, never time with nothing to send. A sliding window over all chats is then
checked as well, so catching up never passes the limit itself.

The windows count a send from when the platform may have counted it. It cannot
have counted it before we sent it, nor after its answer came back: so a send is
stamped, in every window, with the moment its answer came (:meth:`Pacer.done`),
and the next may go a window later. A send whose answer is slow to come counts
from its start plus ``IN_FLIGHT_SECONDS`` — the jitter we allow a request on its
way to the platform — so a hung request does not hold up the rest for long.
Where answers come quickly the window's time is all the pacing costs; stamping
sends when they start would have to allow for the worst jitter on every send.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.delivery import Pacing, Scope

# The even spacing's slack: sends reach the platform with some jitter, so they are
# spaced a little wider than the limit, to stay just under it instead of bouncing off.
SLACK_FACTOR = 1.01
SLACK_SECONDS = 0.005
# How long after its start an unanswered send may still reach the platform, as far
# as the windows are concerned (see the module's docstring).
IN_FLIGHT_SECONDS = 0.03
ALL_CHATS = ""


@dataclass(slots=True)
class Stamp:
    """When a send counts in the windows: provisional while it is in flight."""

    at: float


@dataclass
class _Window:
    count: int
    seconds: float
    times: dict[str, deque[Stamp]] = field(default_factory=dict)

    def wait(self, key: str, now: float) -> float:
        sent = self.times.get(key)
        if sent is None or len(sent) < self.count:
            return 0.0
        # The oldest send's stamp rather than the least: a later send's stamp is
        # lower only while the oldest is unanswered, and then by less than
        # IN_FLIGHT_SECONDS. So this errs on the safe side, at no cost per send.
        return max(0.0, sent[0].at + self.seconds - now)

    def record(self, key: str, stamp: Stamp) -> None:
        sent = self.times.setdefault(key, deque(maxlen=self.count))
        sent.append(stamp)

    def forget_idle(self, now: float) -> None:
        idle = [
            key
            for key, sent in self.times.items()
            if max(stamp.at for stamp in sent) + self.seconds < now
        ]
        for key in idle:
            del self.times[key]


def takeover_seconds(pacing: Pacing) -> float:
    """How long a sender taking over from one that died mid-send waits first: the
    platform still counts what the dead one sent in its last moments, in windows
    over all chats and per chat, which the new pacer never saw. (Per-group windows
    are a minute long: a group that had its fill gets a retry-after instead.)"""
    return max(
        (limit.per_seconds for limit in pacing.limits if limit.scope is not Scope.GROUP),
        default=0.0,
    )


class Pacer:
    def __init__(self, pacing: Pacing, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._spacing = 0.0
        self._next_any = 0.0
        self._asked: float | None = None  # when the next send was first asked for
        self._catch_up = pacing.catch_up_seconds
        self._all: list[_Window] = []
        self._chat: list[_Window] = []
        self._group: list[_Window] = []
        for limit in pacing.limits:
            window = _Window(limit.count, limit.per_seconds + SLACK_SECONDS)
            if limit.scope is Scope.ALL:
                spaced = limit.per_seconds * SLACK_FACTOR + SLACK_SECONDS
                self._spacing = max(self._spacing, spaced / limit.count)
                if self._catch_up:
                    self._all.append(window)
            else:
                (self._chat if limit.scope is Scope.CHAT else self._group).append(window)
        self._last_cleanup = monotonic()

    def wait_for(self, chat: str, is_group: bool) -> float:
        """Seconds until a message to ``chat`` may go (0 means now)."""
        now = self._monotonic()
        if self._asked is None:
            self._asked = now
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

    def record(self, chat: str, is_group: bool) -> Stamp:
        """A message to ``chat`` is being sent now; pass the stamp to :meth:`done`
        when its answer comes."""
        now = self._monotonic()
        if self._spacing:
            # Make up for late wake-ups, but not for time when nothing waited to go:
            # that would only send a burst, which the window then holds back (and
            # the replies behind it) a window later.
            asked = now if self._asked is None else self._asked
            self._next_any = max(self._next_any, now - self._catch_up, asked) + self._spacing
            self._asked = None
        else:
            self._next_any = now
        stamp = Stamp(now + IN_FLIGHT_SECONDS)
        for window in self._all:
            window.record(ALL_CHATS, stamp)
        for window in self._windows(is_group):
            window.record(chat, stamp)
        if now - self._last_cleanup > 60:
            self._last_cleanup = now
            for window in (*self._chat, *self._group):
                window.forget_idle(now)
        return stamp

    def done(self, stamp: Stamp) -> None:
        """The platform has answered the send: it was counted by now, if at all."""
        stamp.at = min(stamp.at, self._monotonic())

    def _windows(self, is_group: bool) -> list[_Window]:
        return self._chat + self._group if is_group else self._chat
