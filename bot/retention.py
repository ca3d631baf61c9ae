"""The scheduled purge of personal data past its time (``[retention]`` in the config).

It runs at start and then once a day; each run is one transaction, safe to run in
two processes at once (the second finds nothing left). ``organise-bot db purge
--dry-run`` shows what a run would do (:func:`run_purge`).
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta

from bot.config import RetentionSettings
from bot.registry import Registry
from bot.services import Services
from storage.db import Database
from storage.retention import Cutoffs, purge

log = logging.getLogger(__name__)

KEY = "retention:purge"
EVERY = timedelta(days=1)


def cutoffs(settings: RetentionSettings, now: datetime) -> Cutoffs:
    def before(days: int) -> datetime | None:
        return now - timedelta(days=days) if days > 0 else None

    return Cutoffs(
        delivered_messages=before(settings.delivered_messages_days),
        closed_poll_voters=before(settings.closed_poll_voters_days),
        past_rsvps=before(settings.past_rsvps_days),
        audit=before(settings.audit_days),
        newcomers=before(settings.newcomers_days),
    )


async def run_purge(
    db: Database, settings: RetentionSettings, now: datetime, *, dry_run: bool
) -> dict[str, int]:
    async with db.session() as session:
        return await purge(session, cutoffs(settings, now), dry_run=dry_run)


def purge_report(counts: dict[str, int], *, dry_run: bool) -> str:
    """What a purge did, or (dry run) would do, one kind a line."""
    head = "would purge (dry run):" if dry_run else "purged:"
    return "\n".join([head, *(f"  {count:>7} {kind}" for kind, count in counts.items())])


async def _purge_daily(services: Services) -> None:
    now = services.clock.now()
    try:
        counts = await run_purge(services.db, services.config.retention, now, dry_run=False)
        if any(counts.values()):
            log.info("retention purge: %s", ", ".join(f"{n} {k}" for k, n in counts.items()))
    finally:
        _schedule(services, now + EVERY)


def _schedule(services: Services, when: datetime) -> None:
    services.timer.at(KEY, when, functools.partial(_purge_daily, services))


async def start(services: Services) -> None:
    _schedule(services, services.clock.now())


def register(registry: Registry) -> None:
    registry.on_start(start)
