"""/status: how the bot is doing, for an admin, in chat.

The same numbers ``/metrics`` gives a monitoring system (:mod:`bot.metrics`), said
in words: the version and how long this process has run, the messages waiting per
platform (from the database, so every process's), what this process has handled
and sent, how late the timer last ran, and its last errors — by where and what
kind, never with anyone's name or words.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from bot.context import Context
from bot.dates.days import local
from bot.metrics import Backlog, Snapshot
from bot.registry import Command, Registry, Role
from bot.text import Rich, bold, code, counted, join, rich
from bot.types import Outgoing

DISTRIBUTION = "organise-bot"


def running_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def age(seconds: float) -> str:
    """A span said roughly, the way a person reads a dashboard: "40 s", "12 min",
    "3 h 5 min", "2 days"."""
    whole = int(seconds)
    if whole < 90:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 90:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return counted(hours // 24, "day")


async def status(ctx: Context) -> list[Outgoing]:
    snapshot = await ctx.services.metrics.snapshot(ctx.session, ctx.clock.now())
    lines: list[Rich] = [
        rich(bold(f"Status of {ctx.config.bot.name}")),
        rich(f"Version {running_version()} · this process up {age(snapshot.uptime_seconds)}"),
        rich(""),
        rich(bold("Waiting to send")),
        *_backlog(snapshot),
        rich(""),
        rich(bold("Since this process started")),
        *_handled(snapshot),
        rich(""),
        rich(bold("Last errors")),
        *_errors(ctx),
    ]
    return [ctx.reply(join(lines))]


def _backlog(snapshot: Snapshot) -> list[Rich]:
    if not snapshot.backlog:
        return [rich("Nothing.")]
    return [
        rich(f"• {platform}: {_waiting(backlog)}")
        for platform, backlog in sorted(snapshot.backlog.items())
    ]


def _waiting(backlog: Backlog) -> str:
    if not backlog.waiting:
        return "nothing"
    return f"{counted(backlog.waiting, 'message')}, the oldest {age(backlog.oldest_seconds)} old"


def _handled(snapshot: Snapshot) -> list[Rich]:
    lines = []
    for platform in sorted({*snapshot.updates, *snapshot.deliveries}):
        stats = snapshot.deliveries.get(platform)
        done = (
            f"; {stats.sent} sent, {stats.failed} failed, "
            f"{stats.retried + stats.rate_limited} tried again"
            if stats
            else ""
        )
        lines.append(
            rich(f"• {platform}: {counted(snapshot.updates.get(platform, 0), 'update')}{done}")
        )
    if snapshot.timer_lag is not None:
        lines.append(rich(f"The timer last ran {age(snapshot.timer_lag)} after its time."))
    return lines or [rich("Nothing yet.")]


def _errors(ctx: Context) -> list[Rich]:
    errors = ctx.services.metrics.errors.latest()
    if not errors:
        return [rich("None since this process started.")]
    return [
        rich(
            f"• {local(error.at, ctx.config.zone):%d %b %H:%M} ",
            code(error.where),
            f": {error.what}",
        )
        for error in errors
    ]


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "status",
            "How the bot is doing: messages waiting, last errors, version",
            status,
            role=Role.ADMIN,
            private=True,
            example="/status",
            details="The same numbers a monitoring system reads from the bot's metrics "
            "address (see the README's “Operating it”).",
        )
    )
