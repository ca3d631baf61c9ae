"""One person flooding one chat: answered up to a rate, told once to slow down,
then ignored until the rate allows again.

Told once per flood, not once per window: a flood ends only after a whole window
with nothing answered, so a steady flooder's answers stay within the rate itself
(10 in 30 s is Telegram's 20 a minute to a group), warnings included.

Checked in memory before any database work (:meth:`bot.core.Core.handle`), so a
flood costs a dictionary lookup per event rather than a transaction and a reply
each: the replies a person can cause in a chat are bounded by the rate, and other
people's answers there wait behind at most that many. Each (chat, person) keeps
the times of its last few accepted events — a sliding window, as the platforms
count — and is forgotten once idle for a window, so memory follows the people
active in the last window, never everyone ever seen.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot.clock import Clock
from bot.config import RateLimitSettings
from bot.types import ChatRef, UserRef

# However many people are active at once, no more are remembered than this (the
# longest idle go first): a bound on memory even for a flood of new identities.
MOST_REMEMBERED = 100_000
SLOW_DOWN = "You're sending commands faster than I can answer here; please slow down a little."


class Verdict(Enum):
    ANSWER = "answer"
    SLOW_DOWN = "slow down"  # the first event over the rate: say so, do nothing else
    DROP = "drop"  # any later one until the rate allows again: no reply at all


@dataclass
class _Recent:
    accepted: deque[datetime]
    last: datetime
    warned: bool = False


class RateLimiter:
    def __init__(self, settings: RateLimitSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        # By (chat, person), the least recently seen first.
        self._people: OrderedDict[tuple[str, str], _Recent] = OrderedDict()

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.settings.seconds)

    def check(self, chat: ChatRef, user: UserRef) -> Verdict:
        """Whether to answer this event from ``user`` in ``chat``, now."""
        if not self.settings.commands:
            return Verdict.ANSWER
        now = self.clock.now()
        self._forget_idle(now)
        key = (chat.key, user.key)
        recent = self._people.pop(key, None) or _Recent(deque(maxlen=self.settings.commands), now)
        self._people[key] = recent  # the most recently seen last
        recent.last = now
        while recent.accepted and recent.accepted[0] <= now - self.window:
            recent.accepted.popleft()
        if not recent.accepted:  # a whole window without an answer: the flood is over
            recent.warned = False
        if len(recent.accepted) < self.settings.commands:
            recent.accepted.append(now)
            return Verdict.ANSWER
        if recent.warned:
            return Verdict.DROP
        recent.warned = True
        return Verdict.SLOW_DOWN

    def _forget_idle(self, now: datetime) -> None:
        """Forget whoever has sent nothing for a window (nothing of theirs still
        counts), and the longest idle beyond :data:`MOST_REMEMBERED`."""
        idle_since = now - self.window
        while self._people:
            oldest = next(iter(self._people.values()))
            if oldest.last > idle_since and len(self._people) < MOST_REMEMBERED:
                return
            self._people.popitem(last=False)

    def __len__(self) -> int:
        return len(self._people)
