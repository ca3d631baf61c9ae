"""When something happens: its first start and an RRULE, expanded in local wall time.

Meetings and rotas keep their :class:`Schedule` on the row (:mod:`bot.meetings.recurrence`,
moved dates with :func:`store_moves`);
:mod:`bot.dates.when` reads one from what an organiser types. A branch that meets
"every Tuesday at 19:30" meets at 19:30 on the clock on the wall, in GMT and in BST
alike. So the rule is expanded by dateutil with a *naive* local start, and each
occurrence is then placed in the meeting's zone with zoneinfo and turned into UTC —
never expanded in UTC, which would drift by an hour at every clock change.

Month-ends follow RFC 5545 (and so every phone calendar importing our .ics): a
series on "the 31st" skips months that have no 31st. "The last day of the month"
is its own rule (``BYMONTHDAY=-1``) for those who mean it.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr  # type: ignore[import-untyped]

from bot.clock import UTC

# Occurrences are searched from a day before the bound, in local time, so a bound
# on the far side of a clock change never hides one.
_MARGIN = timedelta(days=1)


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive wall-clock time in ``zone`` as aware UTC."""
    return local.replace(tzinfo=zone).astimezone(UTC)


def to_local(moment: datetime, zone: ZoneInfo) -> datetime:
    """Aware UTC as naive wall-clock time in ``zone``."""
    return moment.astimezone(zone).replace(tzinfo=None)


@lru_cache(maxsize=16384)
def _expander(rule: str, local_start: datetime) -> rrule:
    return rrulestr(f"RRULE:{rule}", dtstart=local_start, cache=True)


@dataclass(frozen=True)
class Schedule:
    start: datetime  # the first occurrence, aware UTC
    rule: str  # an RRULE body such as "FREQ=WEEKLY;BYDAY=SA"; "" for a one-off
    zone: ZoneInfo
    until: date | None = None  # the last local day of a series
    # Single dates moved elsewhere, (original, new) in UTC: the original is not an
    # occurrence any more, the new time is — the series and its skips stay as they were.
    moves: tuple[tuple[datetime, datetime], ...] = ()

    @property
    def repeats(self) -> bool:
        return bool(self.rule)

    @property
    def local_start(self) -> datetime:
        return to_local(self.start, self.zone)

    def moved_to(self, original: datetime) -> datetime | None:
        return dict(self.moves).get(original)

    def moving(self, occurrence: datetime, new: datetime) -> Schedule:
        """This schedule with the date at ``occurrence`` moved to ``new`` (a date moved
        before keeps its original, so moving it back undoes the move)."""
        moves = dict(self.moves)
        original = next((old for old, moved in moves.items() if moved == occurrence), occurrence)
        moves[original] = new
        return replace(self, moves=tuple(sorted(moves.items())))

    def occurrences(self, after: datetime, skips: Collection[datetime] = ()) -> Iterator[datetime]:
        """Occurrences strictly after ``after`` (aware), in UTC, in order."""
        moved = sorted(new for _original, new in self.moves if new > after)
        for moment in heapq.merge(self._planned(after), moved):
            if moment not in skips:
                yield moment

    def _planned(self, after: datetime) -> Iterator[datetime]:
        """The rule's own occurrences after ``after``, up to ``until``, less those moved."""
        originals = {original for original, _new in self.moves}
        if not self.rule:
            if self.start > after and self.start not in originals:
                yield self.start
            return
        expander = _expander(self.rule, self.local_start)
        for local in expander.xafter(to_local(after, self.zone) - _MARGIN, inc=True):
            if self.until is not None and local.date() > self.until:
                return
            moment = to_utc(local, self.zone)
            if moment > after and moment not in originals:
                yield moment

    def next(self, after: datetime, skips: Collection[datetime] = ()) -> datetime | None:
        return next(self.occurrences(after, skips), None)

    def is_occurrence(self, moment: datetime) -> bool:
        return self.next(moment - timedelta(seconds=1)) == moment

    def reminders(
        self, offsets: Sequence[int], after: datetime, skips: Collection[datetime] = ()
    ) -> Iterator[tuple[datetime, datetime, int]]:
        """``(due, occurrence, offset minutes)`` for every reminder due strictly
        after ``after``, in order of due time."""
        streams = [self._reminders(offset, after, skips) for offset in sorted(set(offsets))]
        return heapq.merge(*streams)

    def _reminders(
        self, offset: int, after: datetime, skips: Collection[datetime]
    ) -> Iterator[tuple[datetime, datetime, int]]:
        before = timedelta(minutes=offset)
        for occurrence in self.occurrences(after + before, skips):
            yield occurrence - before, occurrence, offset


def store_moves(moves: tuple[tuple[datetime, datetime], ...]) -> dict[str, str] | None:
    """Moves as a row keeps them, in a JSON column (``None``: none)."""
    stored = {original.isoformat(): new.isoformat() for original, new in moves}
    return stored or None


def read_moves(stored: dict[str, str] | None) -> tuple[tuple[datetime, datetime], ...]:
    """Moves from a row, as :func:`store_moves` kept them."""
    return tuple(
        sorted(
            (datetime.fromisoformat(original), datetime.fromisoformat(new))
            for original, new in (stored or {}).items()
        )
    )
