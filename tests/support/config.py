"""Config for tests: the given database, and senders that look for work often.

Tests of other features run as a bot kept in one trusted server (an open network,
where every chat belongs); the boundary's own tests close it (``open_network=False``).
"""

from __future__ import annotations

import dataclasses

from bot.config import Config, DatabaseSettings, NetworkSettings, OutboxSettings


def make_config(url: str, *, open_network: bool = True, **outbox: float) -> Config:
    settings = dataclasses.replace(OutboxSettings(poll_seconds=0.02), **outbox)
    return Config(
        database=DatabaseSettings(url=url),
        outbox=settings,
        network=NetworkSettings(open=open_network),
    )
