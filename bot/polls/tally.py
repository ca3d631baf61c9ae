"""The count: per option, the turnout, the winners and the quorum.

Ballots hold their choices as a bit set (bit *i* = option *i*; see
:mod:`storage.polls`), and the database hands back how many ballots hold each set,
so counting is a small sum here whatever the number of voters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage.polls import Poll, ballot_groups


@dataclass(frozen=True, slots=True)
class Tally:
    counts: tuple[int, ...]
    turnout: int  # people who voted (a --multi voter counts once)

    @classmethod
    def of(cls, option_count: int, groups: Mapping[int, int]) -> Tally:
        """From ``{choices bit set: ballots}``."""
        counts = [0] * option_count
        for choices, ballots in groups.items():
            for option in chosen(choices, option_count):
                counts[option] += ballots
        return cls(tuple(counts), sum(n for choices, n in groups.items() if choices))

    @classmethod
    def empty(cls, option_count: int) -> Tally:
        return cls((0,) * option_count, 0)

    def share(self, option: int) -> float:
        """The part of the voters who chose ``option`` (0 when nobody voted)."""
        return self.counts[option] / self.turnout if self.turnout else 0.0

    @property
    def winners(self) -> list[int]:
        """The option(s) with the most votes — several on a tie, none without votes."""
        top = max(self.counts, default=0)
        return [index for index, count in enumerate(self.counts) if top and count == top]

    def quorum_met(self, quorum: int | None) -> bool:
        return quorum is None or self.turnout >= quorum

    def summary(self, hidden: bool) -> str:
        """What a posted copy shows, compactly: copies are edited only when it changes."""
        return str(self.turnout) if hidden else f"{self.turnout}:" + ",".join(map(str, self.counts))


def chosen(choices: int, option_count: int) -> list[int]:
    return [option for option in range(option_count) if choices >> option & 1]


async def load_tally(session: AsyncSession, poll: Poll) -> Tally:
    return Tally.of(len(poll.options), await ballot_groups(session, poll.id))
