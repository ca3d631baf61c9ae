"""The fixtures of the Discord adapter's tests: a fake Discord, and logged-in adapters on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import pytest

from adapters.discord import DiscordAdapter, DiscordSettings
from bot.registry import Command
from tests.discord_adapter.harness import REGISTRY, Make
from tests.fakes.discord import TOKEN, FakeDiscord, Gateway, Recorder
from tests.support.clock import FakeClock


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
async def make(fake: FakeDiscord) -> AsyncIterator[Make]:
    """A logged-in adapter (real login against the fake) with its handlers attached."""
    made: list[DiscordAdapter] = []

    async def build(
        on_event: Recorder | None = None,
        *,
        settings: DiscordSettings | None = None,
        commands: Sequence[Command] = REGISTRY,
        clock: FakeClock | None = None,
    ) -> tuple[DiscordAdapter, Gateway]:
        adapter = DiscordAdapter(settings or DiscordSettings(), commands, clock=clock)
        adapter.attach(on_event or Recorder())
        await adapter.client.login(TOKEN)
        made.append(adapter)
        return adapter, Gateway(adapter.client)

    yield build
    for adapter in made:
        await adapter.client.close()
