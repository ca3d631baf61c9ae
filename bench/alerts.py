"""Alerts figures: one picket alert to 1,000 chats at once on Telegram and Discord.

The whole application runs — core, outbox, both real adapters (PTB over HTTP,
discord.py over HTTP) — against the fake Bot API and the fake Discord, each
enforcing its platform's limits and answering 429 past them. An admin sends the
alert as a person would: ``/picket add`` in a private Telegram chat, then *Send* on
the preview. Meanwhile members ask ``/strikes`` from their own private chats.

* **Wall time against the ceiling** (goal ≥95%): from the Send press until the last
  copy reached its platform, against the least time the platforms' limits allow for
  what was sent meanwhile (Telegram 30 messages/s, Discord 50 requests/s, each
  counted at the fake: the copies, the /strikes answers, anything else).
* **429s** answered by either fake (goal 0).
* **p99 time to answer /strikes** while it runs (goal ≤200 ms): from the update
  being queued at the fake Bot API until the answer reaches it. Four asks a second,
  round-robin over five chats (Telegram allows one message a second to a chat).

The split is 350 Telegram groups and 650 Discord channels, so that each platform's
share takes about 13 s at its ceiling, the /strikes answers included. Three runs
(a fresh picket each) on SQLite: about a minute. The picket gives a postcode, not
coordinates: with coordinates Telegram sends a venue after the text, two messages
to one chat at once, which the fake's one-a-second-per-chat limit refuses (see the
report of the alerts issue).
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert

from adapters.discord import DiscordAdapter, DiscordSettings
from adapters.telegram import TelegramAdapter, TelegramSettings
from bench.common import scratch_sqlite, table
from bot.app import App
from bot.clock import SystemClock
from bot.commands import build_registry
from bot.config import (
    Config,
    DatabaseSettings,
    NetworkSettings,
    OutboxSettings,
    RateLimitSettings,
    RolesSettings,
)
from storage.models import Chat, ChatTag
from tests.fakes.discord import TOKEN, FakeDiscord
from tests.fakes.telegram.api import (
    SENDING_METHODS,
    Call,
    FakeTelegramAPI,
    Params,
    callback_update,
    command_update,
    group_chat,
    private_chat,
    user,
    visible_text,
)

TELEGRAM_CHATS = 350
DISCORD_CHATS = 650
CHATS = TELEGRAM_CHATS + DISCORD_CHATS
RUNS = 3
TELEGRAM_RATE = 30.0  # messages/s, Telegram's bulk limit
DISCORD_RATE = 50.0  # requests/s, Discord's global limit
ASK_EVERY = 0.25  # seconds between two /strikes
SETTLE = 1.1  # seconds for the fakes' one-second windows to empty between runs
ADMIN = user(4242, "Tess", "Tulo")
ASKERS = [user(5000 + n, f"Member{n}") for n in range(5)]


@dataclass
class Figures:
    wall: float = 0.0
    ceiling: float = 0.0
    refused: int = 0
    latencies: list[float] = field(default_factory=list)
    # Per platform: (seconds until its last copy, the least time its limit allows).
    platforms: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def share(self) -> float:
        return self.ceiling / self.wall

    @property
    def p99(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98]


class GroupMessages:
    """Messages the fake Bot API accepted for group chats since a mark, counted as
    calls come in (a call's status is known only once it is answered), so that
    watching costs the event loop next to nothing."""

    def __init__(self, api: FakeTelegramAPI, mark: int) -> None:
        self.api, self.seen, self.accepted = api, mark, 0
        self.waiting: list[Call] = []

    def count(self) -> int:
        calls = self.api.calls
        self.waiting += [
            call
            for call in calls[self.seen :]
            if call.method == "sendMessage" and str(call.params["chat_id"]).startswith("-")
        ]
        self.seen = len(calls)
        self.accepted += sum(1 for call in self.waiting if call.status == 200)
        self.waiting = [call for call in self.waiting if call.status == 0]
        return self.accepted


class Rig:
    """The application on both fakes, with 1,000 tagged chats and dispute #1."""

    def __init__(self, telegram: FakeTelegramAPI, discord: FakeDiscord) -> None:
        self.telegram, self.discord = telegram, discord
        registry = build_registry()
        config = Config(
            database=DatabaseSettings(url=scratch_sqlite()),
            outbox=OutboxSettings(poll_seconds=0.05),
            roles=RolesSettings(admins=[f"telegram:{ADMIN['id']}"]),
            # Five askers ask /strikes many times a minute each: a load, not a flood.
            rate_limit=RateLimitSettings(commands=0),
            # One trusted network whose every chat belongs, as the tests have it: in
            # a closed one the askers' private chats would be told to join first.
            network=NetworkSettings(open=True),
        )
        settings = TelegramSettings(
            base_url=telegram.base_url, base_file_url=telegram.base_file_url
        )
        self.discord_adapter = DiscordAdapter(DiscordSettings(), list(registry))
        telegram_adapter = TelegramAdapter(telegram.token, settings, list(registry))
        self.app = App(config, [telegram_adapter, self.discord_adapter], registry=registry)

    async def start(self) -> None:
        await self.discord_adapter.client.login(TOKEN)
        await self.app.start()
        await self._chats()
        await self.ask(ADMIN, '/dispute add UNISON "Sandwell Council" "Pay" region:x', "dispute #1")
        branch = -1_003_000_000  # the first of the tagged groups
        for asker in ASKERS:
            # Each asker has used the bot in a branch's group, so that /strikes in
            # private lists that group's news; and each one's own chat is known.
            mark = self.telegram.mark()
            self.telegram.push(command_update("/start", group_chat(branch, "Branch 0"), asker))
            await self.telegram.wait_for_call(
                "sendMessage", lambda p: p["chat_id"] == str(branch), after=mark
            )
            await self.ask(asker, "/strikes", "")

    async def stop(self) -> None:
        await self.app.stop()
        await self.discord_adapter.client.close()

    async def _chats(self) -> None:
        now = SystemClock().now()
        rows: list[dict[str, Any]] = [
            {"platform": "telegram", "platform_chat_id": str(-1_003_000_000 - n)}
            for n in range(TELEGRAM_CHATS)
        ] + [
            {"platform": "discord", "platform_chat_id": str(900_000_000_000_000_000 + n)}
            for n in range(DISCORD_CHATS)
        ]
        for number, row in enumerate(rows):
            row.update(title=f"Branch {number}", kind="group", active=True, approved=True)
            row.update(inactive_reason="", created_at=now)
        async with self.app.db.session() as session:
            ids = await session.scalars(
                insert(Chat).returning(Chat.id, sort_by_parameter_order=True), rows
            )
            await session.execute(insert(ChatTag), [{"chat_id": i, "tag": "region:x"} for i in ids])

    async def ask(self, person: dict[str, Any], text: str, answer: str) -> Params:
        """Send a command from ``person``'s private chat; wait for the answer."""
        mark = self.telegram.mark()
        self.telegram.push(command_update(text, private_chat(person), person))
        return await self.telegram.wait_for_call(
            "sendMessage",
            lambda p: p["chat_id"] == str(person["id"]) and answer in visible_text(p["text"]),
            after=mark,
        )

    async def run(self, number: int) -> Figures:
        preview = await self.ask(
            ADMIN, f'/picket add 1 "Depot {number}" "B69 4JE" tomorrow 06:00-10:00', "is ready"
        )
        send = preview["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await asyncio.sleep(SETTLE)
        telegram_mark, discord_mark = self.telegram.mark(), len(self.discord.created)
        discord_requests, discord_refused = len(self.discord.requests), self._discord_refused()
        start = time.perf_counter()
        self.telegram.push(callback_update(send, private_chat(ADMIN), ADMIN))
        figures = Figures()
        asking = asyncio.create_task(self._keep_asking(figures.latencies))
        groups = GroupMessages(self.telegram, telegram_mark)
        finished: dict[str, float] = {}
        while len(finished) < 2:
            elapsed = time.perf_counter() - start
            if "telegram" not in finished and groups.count() >= TELEGRAM_CHATS:
                finished["telegram"] = elapsed
            if (
                "discord" not in finished
                and len(self.discord.created) - discord_mark >= DISCORD_CHATS
            ):
                finished["discord"] = elapsed
            await asyncio.sleep(0.01)
        figures.wall = max(finished.values())
        asking.cancel()
        await asyncio.gather(asking, return_exceptions=True)
        await self.telegram.wait_for_call(
            "editMessageText",
            lambda p: f"Done. Delivered {CHATS:,}/{CHATS:,}" in visible_text(p["text"]),
            after=telegram_mark,
        )
        calls = self.telegram.calls[telegram_mark:]
        telegram_sent = sum(1 for c in calls if c.method in SENDING_METHODS and c.status == 200)
        discord_sent = sum(
            1
            for request in self.discord.requests[discord_requests:]
            if not request.path.startswith(("/interactions/", "/webhooks/"))
        )
        figures.platforms = {
            "telegram": (finished["telegram"], telegram_sent / TELEGRAM_RATE),
            "discord": (finished["discord"], discord_sent / DISCORD_RATE),
        }
        figures.ceiling = max(least for _, least in figures.platforms.values())
        figures.refused = sum(1 for c in calls if c.status == 429) + (
            self._discord_refused() - discord_refused
        )
        return figures

    def _discord_refused(self) -> int:
        return self.discord.limits.refused if self.discord.limits is not None else 0

    async def _keep_asking(self, latencies: list[float]) -> None:
        for asker in itertools.cycle(ASKERS):
            start = time.perf_counter()
            await self.ask(asker, "/strikes", "Coming up")
            latencies.append(time.perf_counter() - start)
            await asyncio.sleep(max(0.0, ASK_EVERY - (time.perf_counter() - start)))


async def main() -> None:
    async with (
        FakeTelegramAPI(enforce_limits=True) as telegram,
        FakeDiscord(enforce_limits=True) as discord,
    ):
        rig = Rig(telegram, discord)
        await rig.start()
        try:
            runs = [await rig.run(number) for number in range(RUNS)]
        finally:
            await rig.stop()
    median = statistics.median
    table(
        f"Picket alert to {TELEGRAM_CHATS} Telegram + {DISCORD_CHATS} Discord chats, fakes "
        f"enforcing limits (SQLite; medians of {RUNS})",
        [
            ("wall time, s", f"{median(r.wall for r in runs):8.2f}"),
            ("ceiling (least time the limits allow), s", f"{median(r.ceiling for r in runs):8.2f}"),
            ("ceiling / wall (goal ≥95%)", f"{median(r.share for r in runs):8.1%}"),
            *(
                (
                    f"  {name}: its copies done, s / its limit allows, s",
                    f"{median(r.platforms[name][0] for r in runs):8.2f} / "
                    f"{median(r.platforms[name][1] for r in runs):.2f}",
                )
                for name in ("telegram", "discord")
            ),
            ("429s per run (goal 0)", f"{median(r.refused for r in runs):8.0f}"),
            ("/strikes answered per run", f"{median(len(r.latencies) for r in runs):8.0f}"),
            (
                "/strikes p99 while sending, ms (goal ≤200)",
                f"{median(r.p99 for r in runs) * 1000:8.0f}",
            ),
            (
                "/strikes median while sending, ms",
                f"{median(median(r.latencies) for r in runs) * 1000:8.0f}",
            ),
        ],
    )
