"""Config for tests: the given database, senders that look for work often, and no
per-person rate limit — tests type far faster than people, and the limit's own
tests (tests/test_rate_limit.py) turn it on.

Tests of other features run as a bot kept in one trusted server (an open network,
where every chat belongs); the boundary's own tests close it (``open_network=False``).
"""

from __future__ import annotations

import dataclasses

from bot.config import Config, DatabaseSettings, NetworkSettings, OutboxSettings, RateLimitSettings

UNLIMITED = RateLimitSettings(commands=0)


def make_config(url: str, *, open_network: bool = True, **outbox: float) -> Config:
    settings = dataclasses.replace(OutboxSettings(poll_seconds=0.02), **outbox)
    return Config(
        database=DatabaseSettings(url=url),
        outbox=settings,
        rate_limit=UNLIMITED,
        network=NetworkSettings(open=open_network),
    )
