"""``organise-bot check``: is this install ready to serve? One line per check.

For the person setting up a server (and a container's health check): the config
loads, the database answers, is migrated to the newest revision and takes writes,
and each platform token set is accepted by its API — each a ✔ or a ✘ with the same
one-line reason the bot itself would give at start. Nothing is changed: migrations
are only compared, not applied.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

from adapters.runner import serving
from bot import config as configuration
from bot.config import Config
from bot.faults import StartupError
from storage.db import OPEN_ERRORS, Database
from storage.migrate import behind


@dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{'✔' if self.ok else '✘'} {self.name}: {self.detail}"


async def run_checks(config_path: str | None) -> list[Outcome]:
    """Every check, in order; a config that does not load ends the list."""
    try:
        config = configuration.load(config_path)
    except StartupError as error:
        return [Outcome("config", False, str(error))]
    outcomes = [Outcome("config", True, _source(config_path))]
    for name, check in _checks(config):
        try:
            outcomes.append(Outcome(name, True, await check()))
        except StartupError as error:
            outcomes.append(Outcome(name, False, str(error)))
    return outcomes


def _source(config_path: str | None) -> str:
    path = configuration.config_file(config_path)
    return f"{path} loads" if path else "built-in defaults (no config file)"


Check = Callable[[], Awaitable[str]]


def _checks(config: Config) -> list[tuple[str, Check]]:
    url = config.database.url
    checks: list[tuple[str, Check]] = [
        ("database", lambda: _database(url)),
        ("migrations", lambda: _migrations(url)),
        ("writes", lambda: _writes(url)),
    ]
    for spec in serving(config):
        if spec.identify is not None:
            checks.append(
                (spec.name, partial(spec.identify, spec.section(config), spec.token(config)))
            )
    return checks


@asynccontextmanager
async def _opened(url: str) -> AsyncIterator[Database]:
    """The database, with what goes wrong on the way said in one line."""
    database = Database(url)
    try:
        database.check_folder()
        yield database
    except OPEN_ERRORS as error:
        raise database.explain(error) from None
    finally:
        await database.close()


async def _database(url: str) -> str:
    async with _opened(url) as database, database.engine.connect() as connection:
        await connection.exec_driver_sql("SELECT 1")
        return f"{database.where} answers"


async def _migrations(url: str) -> str:
    async with _opened(url) as database:
        missing = await behind(database)
    if missing:
        raise StartupError(
            f"not migrated to {', '.join(sorted(missing))}: run organise-bot db upgrade"
        )
    return "at the newest revision"


async def _writes(url: str) -> str:
    async with _opened(url) as database:
        await database.check_writable()
    return "a test write was accepted (and rolled back)"


def report(outcomes: list[Outcome]) -> tuple[str, int]:
    """The lines to print, and the exit status: 0 only if every check passed."""
    return "\n".join(map(str, outcomes)), 0 if all(o.ok for o in outcomes) else 1
