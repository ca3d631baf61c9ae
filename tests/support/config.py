"""Config for tests: the given database, and senders that look for work often."""

from __future__ import annotations

import dataclasses

from bot.config import Config, DatabaseSettings, OutboxSettings


def make_config(url: str, **outbox: float) -> Config:
    settings = dataclasses.replace(OutboxSettings(poll_seconds=0.02), **outbox)
    return Config(database=DatabaseSettings(url=url), outbox=settings)
