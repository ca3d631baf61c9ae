"""/status in chat: for admins only; the version, what waits, what was handled and
the last errors — by id and kind, with nobody's name or words."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from bot.status import age, running_version
from storage.db import Database
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession


@pytest.fixture
async def bot(
    database: Database, database_url: str, clock: FakeClock
) -> AsyncIterator[ConsoleSession]:
    """On an empty database (``database`` empties PostgreSQL's, shared by the run)."""
    async with ConsoleSession(make_config(database_url), clock=clock) as session:
        yield session


async def test_an_admin_sees_the_version_the_queue_and_the_last_errors(
    bot: ConsoleSession,
) -> None:
    await bot.say("/help")
    logging.getLogger("bot.polls").error("closing poll %s failed for %s", 7, "Alice Smith")
    out = shown(await bot.say("/status"))
    assert out.startswith("[branch] (only you) Status of Organise bot\n")
    assert f"\nVersion {running_version()} · this process up " in out
    assert "\nWaiting to send\n• console: nothing\n" in out
    assert "\n• console: 2 updates; 1 sent, 0 failed, 0 tried again\n" in out
    assert "\nLast errors\n• " in out and " bot.polls: closing poll … failed for …" in out
    assert "Alice" not in out


async def test_status_says_when_there_are_no_errors(bot: ConsoleSession) -> None:
    out = shown(await bot.say("/status"))
    assert out.endswith("\nLast errors\nNone since this process started.\n")


async def test_others_are_told_it_is_for_admins(bot: ConsoleSession) -> None:
    await bot.say(":user sam")
    out = await bot.say("/status")
    assert "Only admins can use /status. Ask an admin to /grant you the role if you need it." in out
    assert "Version" not in out


def shown(output: str) -> str:
    """The console's output without the indent of its continuation lines."""
    return "".join(line.strip() + "\n" for line in output.splitlines())


def test_ages_read_as_on_a_dashboard() -> None:
    assert [age(s) for s in (0, 89, 90, 5399, 5400, 7200, 172_799, 172_800)] == [
        "0 s",
        "89 s",
        "1 min",
        "89 min",
        "1 h 30 min",
        "2 h",
        "47 h 59 min",
        "2 days",
    ]
