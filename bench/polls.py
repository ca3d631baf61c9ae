"""Poll figures: 10,000 votes from 2,000 people across 50 chats.

(a) Through the Telegram adapter (python-telegram-bot over HTTP to the fake Bot
    API, on SQLite): votes recorded per second — a press counts once Telegram has
    its answer, which comes after the vote is committed — against a bare PTB
    ``Application`` whose callback handler only answers the button, in the same run
    (goal: at least 80% of its rate). The bare one handles one update at a time, as
    PTB does by default: on loopback that is PTB's quickest way, so the strictest
    baseline. The final tally must be exact: everyone pressed five times, in five of
    the chats, and only their last press may count. The live tally edits run
    meanwhile, as they would, and the outbox keeps its default settings.

    The adapter sends its Bot API calls through aiohttp (adapters/telegram/
    transport.py); bare PTB, as it comes, through httpx. So a second bare PTB,
    given the adapter's transport, shows what the adapter's own work costs: the
    votes, their commits, the live tally, and handling presses concurrently.
(b) The storage path alone (the micro-batching recorder, many presses at once),
    on SQLite and on PostgreSQL (goal: at least 10,000 votes/s), with one
    transaction per press alongside to show why the recorder batches.

Each side of (a) handles the 10,000 presses in five rounds of 2,000 (every person
once a round), taken in turn so that noise on this shared machine hits all alike;
the rates are medians of the rounds, and a share is the median of the rounds'
ratios, each round of ours against the bare rounds that followed it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes
from telegram.request import BaseRequest

from adapters.telegram.transport import AiohttpRequest
from bench.common import scratch_sqlite, table
from bot.app import App
from bot.commands import build_registry
from bot.config import Config, DatabaseSettings, RolesSettings
from bot.polls.copies import refresh, refresh_key
from bot.polls.tally import Tally, load_tally
from bot.polls.votes import VoteRecorder
from bot.types import ChatRef, UserRef
from storage.chats import add_tags, register_chat
from storage.copies import NewCopy, add
from storage.models import Chat
from storage.polls import POSTED, Poll, VoteIn, create_poll
from tests.fakes.telegram.api import JSON, FakeTelegramAPI, callback_update, group_chat, user
from tests.support.databases import create_postgres_database, drop_postgres_database
from tests.support.telegram import TelegramSession, chat_ref

PEOPLE = 2000
CHATS = 50
ROUNDS = 5  # presses per person: 10,000 votes in all
OPTIONS = ("Yes", "No", "Abstain")
ADMIN = user(1, "Organiser")
TAG = "bench:polls"
STORAGE_RUNS = 3  # the storage path is quick: its median is over 3 runs of 5 rounds
PER_PRESS_VOTES = 500  # one transaction per press is slow: a smaller sample
POLL = 1  # the poll (a) posts


def option_of(person: int, round_: int) -> int:
    return (person + round_) % len(OPTIONS)


def chat_of(person: int, round_: int) -> int:
    """Each person presses in a different chat every round: one vote all the same."""
    return (person + round_ * 7) % CHATS


def expected_tally() -> Tally:
    last = {person: 1 << option_of(person, ROUNDS - 1) for person in range(PEOPLE)}
    groups: dict[int, int] = {}
    for choices in last.values():
        groups[choices] = groups.get(choices, 0) + 1
    return Tally.of(len(OPTIONS), groups)


# --- (a) through the Telegram adapter ------------------------------------------------


class Answers:
    """Counts answerCallbackQuery calls the fake received, scanning only new calls."""

    def __init__(self, api: FakeTelegramAPI) -> None:
        self.api = api
        self.seen = 0
        self.count = 0

    async def reach(self, total: int) -> None:
        while True:
            calls = self.api.calls
            self.count += sum(1 for c in calls[self.seen :] if c.method == "answerCallbackQuery")
            self.seen = len(calls)
            if self.count >= total:
                return
            await asyncio.sleep(0.005)


def presses(round_: int, chats: Sequence[JSON], people: Sequence[JSON]) -> list[JSON]:
    return [
        callback_update(
            f"vote:{POLL}:{option_of(p, round_)}",
            chats[chat_of(p, round_)],
            people[p],
            f"r{round_}p{p}",
        )
        for p in range(PEOPLE)
    ]


async def round_rate(
    api: FakeTelegramAPI,
    answers: Answers,
    updates: list[JSON],
    finish: Callable[[], Awaitable[None]] | None = None,
) -> float:
    start = time.perf_counter()
    api.push(*updates)
    await answers.reach(answers.count + len(updates))
    if finish is not None:
        await finish()
    return len(updates) / (time.perf_counter() - start)


def tally_shown(bot: TelegramSession) -> Callable[[], Awaitable[None]]:
    """The end of one of our rounds: the live tally, due a few seconds after the
    round's presses, is brought up to date on every copy now. Left to its timer it
    would run during the bare round that follows and count against PTB's figure."""

    async def finish() -> None:
        bot.app.timer.cancel(refresh_key(POLL))
        await refresh(bot.app.services, POLL)
        await bot.idle()

    return finish


async def start_bare(
    api: FakeTelegramAPI, request: BaseRequest | None = None
) -> Callable[[], Awaitable[None]]:
    """PTB alone, only answering each press: through PTB's own httpx transport, or
    through ``request``."""
    builder = ApplicationBuilder().token(api.token).base_url(api.base_url).job_queue(None)
    builder = builder.concurrent_updates(False)
    app = (
        builder.connection_pool_size(64) if request is None else builder.request(request)
    ).build()

    async def answer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer("Your vote: A (Yes)")

    app.add_handler(CallbackQueryHandler(answer))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling()

    async def stop() -> None:
        assert app.updater is not None
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    return stop


async def post_poll(bot: TelegramSession, chats: Sequence[JSON]) -> None:
    app = bot.app
    async with app.db.session() as session:
        for chat in chats:
            row = await register_chat(session, chat_ref(chat), app.clock.now(), approve_new=True)
            await add_tags(session, row, [TAG])
    quoted = " ".join(f'"{o}"' for o in OPTIONS)
    await bot.say(f'/poll "Strike on Friday?" {quoted} --to {TAG}', chats[0], ADMIN)
    await bot.idle()


@dataclass(frozen=True)
class TelegramRates:
    """(a)'s medians: presses/s for each side, and our share of each bare side."""

    ours: float
    bare: float
    bare_same_transport: float
    share: float
    share_same_transport: float
    exact: bool


async def telegram_rates() -> TelegramRates:
    chats = [group_chat(-1_003_000_000 - n, f"Village {n}") for n in range(CHATS)]
    people = [user(10_000 + n, f"Member {n}") for n in range(PEOPLE)]
    config = Config(
        database=DatabaseSettings(url=scratch_sqlite()),
        roles=RolesSettings(admins=[f"telegram:{ADMIN['id']}"]),
    )
    ours: list[float] = []
    bare: list[float] = []
    same: list[float] = []
    async with (
        FakeTelegramAPI() as ours_api,
        FakeTelegramAPI() as bare_api,
        FakeTelegramAPI() as same_api,
        TelegramSession(ours_api, config) as bot,
    ):
        await post_poll(bot, chats)
        stop_bare = await start_bare(bare_api)
        stop_same = await start_bare(same_api, AiohttpRequest(64, 10.0))
        ours_answers, bare_answers = Answers(ours_api), Answers(bare_api)
        same_answers = Answers(same_api)
        try:
            for round_ in range(ROUNDS):
                updates = presses(round_, chats, people)
                ours.append(await round_rate(ours_api, ours_answers, updates, tally_shown(bot)))
                bare.append(await round_rate(bare_api, bare_answers, updates))
                same.append(await round_rate(same_api, same_answers, updates))
        finally:
            await stop_bare()
            await stop_same()
        async with bot.app.db.session() as session:
            poll = await session.get(Poll, POLL)
            assert poll is not None
            exact = await load_tally(session, poll) == expected_tally()
    return TelegramRates(
        ours=statistics.median(ours),
        bare=statistics.median(bare),
        bare_same_transport=statistics.median(same),
        share=statistics.median(o / b for o, b in zip(ours, bare, strict=True)),
        share_same_transport=statistics.median(o / s for o, s in zip(ours, same, strict=True)),
        exact=exact,
    )


# --- (b) the storage path alone ------------------------------------------------------


async def storage_rates(url: str) -> tuple[float, float, bool]:
    """Votes/s through the batching recorder (median of the rounds), and with one
    transaction per press; and whether the tally came out exact."""
    app = App(Config(database=DatabaseSettings(url=url)), registry=build_registry())
    await app.start()
    services = app.services
    try:
        chats = [ChatRef("telegram", str(-1_004_000_000 - n), f"Village {n}") for n in range(CHATS)]
        async with app.db.session() as session:
            rows: list[Chat] = [
                await register_chat(session, c, app.clock.now(), approve_new=True) for c in chats
            ]
            poll = await create_poll(
                session,
                creator_id=None,
                question="Strike on Friday?",
                options=OPTIONS,
                multi=False,
                anonymous=False,
                hide_results=False,
                quorum=None,
                closes_at=None,
                now=app.clock.now(),
            )
            await add(
                session,
                [NewCopy(POSTED, poll.id, chat.id, f"poll:{poll.id}:{chat.id}") for chat in rows],
            )
        people = [UserRef("telegram", str(10_000 + n), f"Member {n}") for n in range(PEOPLE)]

        def votes(round_: int) -> list[VoteIn]:
            return [
                VoteIn(poll.id, option_of(p, round_), chats[chat_of(p, round_)], people[p])
                for p in range(PEOPLE)
            ]

        async def run(recorder: VoteRecorder, batch: list[VoteIn]) -> float:
            start = time.perf_counter()
            await asyncio.gather(*(recorder.record(services, vote) for vote in batch))
            return len(batch) / (time.perf_counter() - start)

        recorder = VoteRecorder()
        batched = [
            await run(recorder, votes(round_))
            for _ in range(STORAGE_RUNS)
            for round_ in range(ROUNDS)
        ]
        async with app.db.session() as session:
            exact = await load_tally(session, poll) == expected_tally()
        single = await run(VoteRecorder(max_batch=1), votes(0)[:PER_PRESS_VOTES])
    finally:
        await app.stop()
    return statistics.median(batched), single, exact


async def main() -> None:
    rates = await telegram_rates()
    rows = [
        ("Telegram: votes recorded/s via the adapter", f"{rates.ours:8.0f}"),
        ("Telegram: bare PTB answering presses/s", f"{rates.bare:8.0f}"),
        ("Telegram: share of bare PTB (goal ≥80%)", f"{rates.share:8.0%}"),
        (
            "Telegram: bare PTB on the adapter's aiohttp transport/s",
            f"{rates.bare_same_transport:8.0f}",
        ),
        ("Telegram: share of that", f"{rates.share_same_transport:8.0%}"),
        ("Telegram: final tally exact", f"{'yes' if rates.exact else 'NO':>8}"),
    ]
    backends = [("SQLite", scratch_sqlite())]
    try:  # the helpers run their own event loop, so they get a thread
        backends.append(("PostgreSQL", await asyncio.to_thread(create_postgres_database)))
    except OSError as error:
        rows.append(("PostgreSQL", f"skipped: {error}"))
    for name, url in backends:
        batched, single, exact = await storage_rates(url)
        rows += [
            (f"{name}: votes/s, batched (goal ≥10,000)", f"{batched:8.0f}"),
            (f"{name}: votes/s, one transaction each", f"{single:8.0f}"),
            (f"{name}: tally exact", f"{'yes' if exact else 'NO':>8}"),
        ]
        if name == "PostgreSQL":
            await asyncio.to_thread(drop_postgres_database, url)
    table(
        f"Polls: {PEOPLE * ROUNDS:,} votes, {PEOPLE:,} people, {CHATS} chats "
        f"(medians of rounds of {PEOPLE:,})",
        rows,
    )
