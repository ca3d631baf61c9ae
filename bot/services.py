"""What handlers and timer callbacks may use, in one place, instead of a global."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.clock import Clock
from bot.config import Config
from bot.metrics import Metrics
from bot.outbox import Outbox
from bot.registry import Registry
from bot.scheduler import Timer
from storage.db import Database


@dataclass(frozen=True)
class Services:
    db: Database
    outbox: Outbox
    timer: Timer
    config: Config
    clock: Clock
    registry: Registry
    metrics: Metrics = field(default_factory=Metrics)
