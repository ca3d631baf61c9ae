"""Telegram figures: one message fanned out to many group chats through the real
adapter (python-telegram-bot over HTTP) and the outbox, to the fake Bot API.

(a) Pacing off: deliveries per second, against a bare PTB ``send_message`` loop
    to the same fake in the same run (goal: at least 70% of its rate). The bare
    loop runs on PTB's own httpx transport, and again on the adapter's aiohttp one
    (adapters/telegram/transport.py), so that our own work's cost shows as well.
(b) The fake enforcing Telegram's flood limits, pacing on: the achieved rate — every
    message the fake accepted, the broadcast and the replies — as a share of 30
    messages/s (goal ≥95%), the 429s met (goal 0), and the reply time of ``/help``
    sent from private chats while the broadcast runs (goal p99 ≤200 ms; with about
    a hundred replies, the p99 is close to the slowest).

Each broadcast is enqueued in one transaction (chats registered beforehand), as an
announcement would be. In (a) the fake serves from a process of its own, as the
Bot API does (``tests.fakes.serve``): both sides then pay only their own
client's costs, and the outbox's sends in flight overlap with the server's work as
they would with Telegram. (b) keeps the fake in-process, to see each reply arrive.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import statistics
import time
from dataclasses import dataclass

from telegram import Bot, LinkPreviewOptions
from telegram.constants import FloodLimit, ParseMode
from telegram.request import BaseRequest

from adapters.telegram import TelegramSettings
from adapters.telegram.render import to_html
from adapters.telegram.transport import AiohttpRequest
from bench.common import scratch_sqlite, table
from bot.config import Config, DatabaseSettings
from bot.text import rich
from storage.chats import register_chat
from tests.fakes import WAIT
from tests.fakes.serve import served
from tests.fakes.telegram.api import (
    JSON,
    FakeTelegramAPI,
    command_update,
    group_chat,
    private_chat,
    user,
)
from tests.support.telegram import TelegramApp, TelegramSession, chat_ref

BROADCAST = "Picket at Smith & Sons, 6am"
HTML = to_html(rich(BROADCAST))  # what the adapter sends for it
UNPACED_CHATS = 1000
UNPACED_RUNS = 5
# At 30 messages/s a broadcast to 1,000 chats takes 33 s: (b) uses fewer chats so
# that several runs fit in a reasonable time.
PACED_CHATS = 400
PACED_RUNS = 3
HELP_EVERY = 0.5  # seconds between two /help, each from the next of ASKERS
ASKERS = [user(500 + n, f"Member {n}") for n in range(10)]  # so no chat passes 1 msg/s


def group_chats(count: int) -> list[JSON]:
    return [group_chat(-1_002_000_000 - n, f"Branch {n}") for n in range(count)]


def config() -> Config:
    """A scratch database and the default outbox settings: a shorter poll would have
    the idle sender querying the database all through the bare PTB loop."""
    return Config(database=DatabaseSettings(url=scratch_sqlite()))


async def register(session: TelegramApp, chats: list[JSON]) -> None:
    app = session.app
    async with app.db.session() as db:
        for chat in chats:
            await register_chat(db, chat_ref(chat), app.clock.now())


async def broadcast(session: TelegramApp, chats: list[JSON]) -> float:
    """Seconds from enqueueing one message for every chat until all are delivered."""
    start = time.perf_counter()
    await session.enqueue(chats, BROADCAST)
    await session.sender.idle()
    return time.perf_counter() - start


async def bare_loop(
    token: str, base_url: str, chats: list[JSON], request: BaseRequest | None = None
) -> float:
    """Seconds for PTB alone to send the same message to every chat, one by one,
    through PTB's own transport or ``request``."""
    no_preview = LinkPreviewOptions(is_disabled=True)
    async with Bot(token, base_url=base_url, request=request) as bot:
        start = time.perf_counter()
        for chat in chats:
            await bot.send_message(
                chat["id"], HTML, parse_mode=ParseMode.HTML, link_preview_options=no_preview
            )
        return time.perf_counter() - start


@dataclass
class Unpaced:
    ours: float  # deliveries/s through the outbox, median
    bare: float  # sends/s of the bare PTB loop, median
    share: float  # median of each run's ours / bare (runs are interleaved)
    bare_same_transport: float  # the bare loop on our aiohttp transport
    share_same_transport: float


async def unpaced() -> Unpaced:
    chats = group_chats(UNPACED_CHATS)
    ours, bare, same = [], [], []
    async with served("telegram", limits=False) as fake:
        remote = dataclasses.replace(
            config().with_platform("telegram", TelegramSettings(base_url=fake.telegram_base_url)),
            tokens={"telegram": fake.token},
        )
        async with TelegramApp(remote) as session:
            await register(session, chats)
            for _ in range(UNPACED_RUNS):
                url = fake.telegram_base_url
                bare.append(len(chats) / await bare_loop(fake.token, url, chats))
                own = AiohttpRequest(1, 10.0)
                same.append(len(chats) / await bare_loop(fake.token, url, chats, own))
                ours.append(len(chats) / await broadcast(session, chats))
            sent = session.sender.stats.sent
    assert sent == UNPACED_RUNS * len(chats), f"the outbox sent {sent} messages"

    def share(theirs: list[float]) -> float:
        return statistics.median(m / t for m, t in zip(ours, theirs, strict=True))

    return Unpaced(
        ours=statistics.median(ours),
        bare=statistics.median(bare),
        share=share(bare),
        bare_same_transport=statistics.median(same),
        share_same_transport=share(same),
    )


async def ask_help(
    session: TelegramSession, asker: JSON, times: list[float], within: float = WAIT
) -> None:
    api = session.api
    chat_id = str(asker["id"])
    mark = api.mark()
    start = time.perf_counter()
    api.push(command_update("/help", private_chat(asker), asker))
    await api.wait_for_call(
        "sendMessage", lambda call: call["chat_id"] == chat_id, after=mark, within=within
    )
    times.append(time.perf_counter() - start)


async def keep_asking(session: TelegramSession, times: list[float], within: float = WAIT) -> None:
    """Send /help every HELP_EVERY seconds until cancelled, recording reply times
    (an answer slower than ``within`` seconds fails the benchmark)."""
    asks: set[asyncio.Task[None]] = set()
    try:
        for n in itertools.count():
            asker = ASKERS[n % len(ASKERS)]
            task = asyncio.create_task(ask_help(session, asker, times, within))
            asks.add(task)
            task.add_done_callback(asks.discard)
            await asyncio.sleep(HELP_EVERY)
    finally:
        if asks:
            await asyncio.gather(*asks)


@dataclass
class Paced:
    share: float  # messages accepted per second (broadcast and replies) / 30, median
    refusals: float  # 429s per run, median
    replies: list[float]  # every /help reply time, in seconds

    def quantile(self, percent: int) -> float:
        return statistics.quantiles(self.replies, n=100, method="inclusive")[percent - 1]


async def paced() -> Paced:
    chats = group_chats(PACED_CHATS)
    shares: list[float] = []
    refusals: list[int] = []
    replies: list[float] = []
    async with (
        FakeTelegramAPI(enforce_limits=True) as api,
        TelegramSession(api, config(), pace=True) as session,
    ):
        await register(session, chats)
        for asker in ASKERS:  # each asker's chat and person exist before we measure
            await ask_help(session, asker, [])
        await asyncio.sleep(1.5)  # the fake's one-second windows empty
        for _ in range(PACED_RUNS):
            mark = api.mark()
            asking = asyncio.create_task(keep_asking(session, replies))
            seconds = await broadcast(session, chats)
            asking.cancel()
            await asyncio.gather(asking, return_exceptions=True)
            calls = api.calls[mark:]
            accepted = sum(1 for c in calls if c.method == "sendMessage" and c.status == 200)
            refusals.append(sum(1 for c in calls if c.status == 429))
            shares.append(accepted / seconds / FloodLimit.MESSAGES_PER_SECOND)
            await asyncio.sleep(1.5)
    return Paced(statistics.median(shares), statistics.median(refusals), replies)


async def main() -> None:
    a = await unpaced()
    b = await paced()
    table(
        f"Telegram fan-out to the fake Bot API (SQLite; medians of {UNPACED_RUNS} runs for (a),"
        f" {PACED_RUNS} for (b))",
        [
            (f"(a) outbox deliveries/s, pacing off, {UNPACED_CHATS} chats", f"{a.ours:8.0f}"),
            (f"(a) bare PTB send_message loop/s, {UNPACED_CHATS} chats", f"{a.bare:8.0f}"),
            ("(a) outbox as a share of bare PTB (goal ≥70%)", f"{a.share:8.0%}"),
            ("(a) bare PTB loop on our aiohttp transport/s", f"{a.bare_same_transport:8.0f}"),
            ("(a) outbox as a share of that", f"{a.share_same_transport:8.0%}"),
            (f"(b) achieved rate / 30 msg/s, {PACED_CHATS} chats (goal ≥95%)", f"{b.share:8.1%}"),
            ("(b) 429s per run (goal 0)", f"{b.refusals:8.0f}"),
            (
                f"(b) /help reply during broadcast, p50 of {len(b.replies)}",
                f"{b.quantile(50) * 1000:6.0f} ms",
            ),
            (
                "(b) /help reply during broadcast, p99 (goal ≤200 ms)",
                f"{b.quantile(99) * 1000:6.0f} ms",
            ),
        ],
    )
