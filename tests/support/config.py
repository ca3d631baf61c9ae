"""Config for tests: the given database, senders that look for work often, and no
per-person rate limit — tests type far faster than people, and the limit's own
tests (tests/test_rate_limit.py) turn it on."""

from __future__ import annotations

import dataclasses

from bot.config import Config, DatabaseSettings, OutboxSettings, RateLimitSettings

UNLIMITED = RateLimitSettings(commands=0)


def make_config(url: str, **outbox: float) -> Config:
    settings = dataclasses.replace(OutboxSettings(poll_seconds=0.02), **outbox)
    return Config(database=DatabaseSettings(url=url), outbox=settings, rate_limit=UNLIMITED)
