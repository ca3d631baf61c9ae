"""The fixtures of the Telegram adapter's tests: a fake Bot API, and an adapter started on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.telegram.api import FakeTelegramAPI
from tests.telegram_adapter.harness import Harness, started


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
async def tg(api: FakeTelegramAPI) -> AsyncIterator[Harness]:
    harness = await started(api)
    yield harness
    await harness.adapter.stop()
