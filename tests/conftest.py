"""Shared fixtures: databases on both backends, a fake clock, a console session."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import text

from adapters.runner import register_platforms
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Base
from tests.support.clock import FakeClock
from tests.support.databases import (
    advisory_locks,
    create_postgres_database,
    drop_postgres_database,
)

BACKENDS = ["sqlite", "postgresql"]

# As `organise-bot` does at start: every platform's table, token and roles known.
register_platforms()

# The fuzz tests' budgets (tests/test_fuzz.py shares them out): a few hundred examples
# in every `make test`; `make fuzz` sets HYPOTHESIS_PROFILE=fuzz (FUZZ_EXAMPLES=5000
# for a shorter run). The console takes milliseconds per command: no deadline.
settings.register_profile("quick", max_examples=400, deadline=None)
settings.register_profile(
    "fuzz", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100000")), deadline=None
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that takes this runs once on SQLite and once on PostgreSQL. On
    PostgreSQL, no advisory lock may outlive the test: an App that kept one would
    keep every later test's App from being elected to send."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    assert asyncio.run(advisory_locks(url)) == 0, "an App left an advisory lock held"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


async def migrated(url: str) -> Database:
    database = Database(url)
    await upgrade(database)
    if not database.is_sqlite:  # the PostgreSQL database is shared by the run: empty it
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with database.session() as session:
            await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return database


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = await migrated(database_url)
    yield db
    await db.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
