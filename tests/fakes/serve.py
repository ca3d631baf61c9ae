"""A fake platform in a process of its own, enforcing the platform's limits:
``python -m tests.fakes.serve discord`` (or ``telegram``; add ``unlimited``
for a fake that enforces no limits).

Benchmarks use it to play a remote service. Inside the bot's process the fake's
work would queue behind the bot's own (one event loop, one interpreter lock), and
it would count requests as arriving in bursts that a server elsewhere never sees.
Once listening it prints one JSON line, ``{"port": …, "token": …}``; it stops when
its standard input closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord.gateway
import discord.http

from tests.fakes.discord.api import API_PREFIX, TOKEN, FakeDiscord, aim_discord_py
from tests.fakes.telegram.api import FakeTelegramAPI


@dataclass(frozen=True)
class Served:
    port: int
    token: str

    @property
    def stats_url(self) -> str:
        """The Discord fake's counts: ``{"refused": 429s given, "created": messages}``."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}/_fake/stats"

    @property
    def telegram_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"


@contextlib.asynccontextmanager
async def served(platform: str, *, limits: bool = True) -> AsyncIterator[Served]:
    """Run the fake for ``platform`` in a child process; for Discord, point discord.py
    at it meanwhile."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        platform,
        *([] if limits else ["unlimited"]),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    old = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        line = await process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fake {platform} server did not start")
        fake = Served(**json.loads(line))
        if platform == "discord":
            aim_discord_py(fake.port)
        yield fake
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old
        process.stdin.close()
        await process.wait()


async def serve(platform: str, limits: bool) -> None:
    if platform == "discord":
        async with FakeDiscord(enforce_limits=limits) as fake:
            await _announce_and_wait(fake.port, TOKEN)
    else:
        async with FakeTelegramAPI(enforce_limits=limits) as api:
            await _announce_and_wait(api.port, api.token)


async def _announce_and_wait(port: int, token: str) -> None:
    print(json.dumps({"port": port, "token": token}), flush=True)
    await asyncio.to_thread(sys.stdin.read)  # until the parent closes it


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], limits="unlimited" not in sys.argv[2:]))
