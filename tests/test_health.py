"""``/healthz`` and ``/metrics`` over real HTTP on 127.0.0.1, in front of the real
application serving the fake Bot API; ``[health]`` in the config; ``organise-bot
health``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters import health
from adapters.health import HealthServer, probe
from bot.app import App
from bot.commands import build_registry
from bot.config import ConfigError, HealthSettings, load
from bot.faults import StartupError
from bot.metrics import ErrorLog, Metrics
from bot.scheduler import Timer
from storage.db import Database
from tests.fakes.telegram.api import private_chat, user
from tests.support.cli import run
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.telegram import telegram_session

ALICE = user(401, "Alice")

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@contextlib.asynccontextmanager
async def serving(app: App) -> AsyncIterator[str]:
    """The app's endpoints on a free port of 127.0.0.1; yields their base address."""
    server = HealthServer(app, "127.0.0.1", 0)
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as client, client.get(url) as answer:
        return answer.status, answer.headers["Content-Type"], await answer.text()


async def scrape(base: str) -> Samples:
    status, kind, text = await get(f"{base}/metrics")
    assert status == 200 and kind.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((f"organise_bot_{name}", tuple(sorted(labels.items()))), 0.0)


async def test_metrics_move_as_the_bot_answers_and_delivers(
    database: Database, database_url: str, clock: FakeClock
) -> None:
    async with telegram_session(database_url, ALICE, clock) as bot, serving(bot.app) as base:
        assert await get(f"{base}/healthz") == (200, "text/plain; charset=utf-8", "ok\n")
        before = await scrape(base)
        assert value(before, "deliveries_total", platform="telegram", outcome="sent") == 0
        assert value(before, "outbox_waiting", platform="telegram") == 0
        assert value(before, "uptime_seconds") >= 0

        await bot.say("/start", private_chat(ALICE), ALICE)
        await bot.say("/help", private_chat(ALICE), ALICE)
        after = await scrape(base)
        assert value(after, "updates_total", platform="telegram") == 2
        assert value(after, "deliveries_total", platform="telegram", outcome="sent") == 2
        assert value(after, "deliveries_total", platform="telegram", outcome="failed") == 0

        # Messages waiting: the sender stopped, two written, half a minute ago.
        await bot.sender.stop()
        await bot.enqueue([private_chat(ALICE), private_chat(ALICE)], "later")
        clock.advance(seconds=30)
        waiting = await scrape(base)
        assert value(waiting, "outbox_waiting", platform="telegram") == 2
        assert value(waiting, "outbox_oldest_seconds", platform="telegram") == 30


async def test_a_retried_and_a_failed_delivery_are_counted(
    sqlite_url: str, clock: FakeClock
) -> None:
    async with telegram_session(sqlite_url, ALICE, clock) as bot, serving(bot.app) as base:
        await bot.say("/start", private_chat(ALICE), ALICE)
        bot.api.fail("sendMessage", 502, "Bad Gateway", chat_id=ALICE["id"])
        await bot.enqueue([private_chat(ALICE)], "one")
        await bot.idle()  # tried once; the next try is due later
        samples = await scrape(base)
        assert value(samples, "deliveries_total", platform="telegram", outcome="retried") == 1
        assert value(samples, "outbox_waiting", platform="telegram") == 1

        bot.api.fail_kicked("sendMessage", chat_id=ALICE["id"])
        clock.advance(seconds=3600)
        await bot.idle()
        samples = await scrape(base)
        assert value(samples, "deliveries_total", platform="telegram", outcome="failed") == 1
        assert value(samples, "deliveries_total", platform="telegram", outcome="sent") == 1
        assert value(samples, "outbox_waiting", platform="telegram") == 0


async def test_healthz_says_what_is_wrong(sqlite_url: str, clock: FakeClock) -> None:
    app = App(make_config(sqlite_url), registry=build_registry(), clock=clock)
    async with serving(app) as base:
        assert await get(f"{base}/healthz") == (
            503,
            "text/plain; charset=utf-8",
            "the adapters are not running\n",
        )
        await app.start()
        try:
            assert (await get(f"{base}/healthz"))[0] == 200
            working = app.db
            app.db = Database("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")
            try:
                status, _, reason = await get(f"{base}/healthz")
            finally:
                await app.db.close()
                app.db = working
            assert status == 503 and reason.startswith("the database does not answer")
        finally:
            await app.stop()
        assert (await get(f"{base}/healthz"))[0] == 503


async def test_metrics_without_the_extra_say_what_to_install(
    sqlite_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "find_spec", lambda _name: None)
    app = App(make_config(sqlite_url), registry=build_registry(), clock=clock)
    async with serving(app) as base:
        status, _, text = await get(f"{base}/metrics")
    assert status == 501
    assert text == 'metrics need the metrics extra: pip install "organise-bot[metrics]"\n'


async def test_a_taken_port_is_one_clear_line(sqlite_url: str, clock: FakeClock) -> None:
    app = App(make_config(sqlite_url), registry=build_registry(), clock=clock)
    async with serving(app) as base:
        taken = int(base.rsplit(":", 1)[1])
        with pytest.raises(StartupError, match=f"cannot serve /healthz on 127.0.0.1:{taken}"):
            await HealthServer(app, "127.0.0.1", taken).start()


async def test_organise_bot_health_asks_healthz(sqlite_url: str, clock: FakeClock) -> None:
    app = App(make_config(sqlite_url), registry=build_registry(), clock=clock)
    async with serving(app) as base:
        settings = HealthSettings("127.0.0.1", int(base.rsplit(":", 1)[1]))
        assert await asyncio.to_thread(probe, settings) == ("the adapters are not running", 1)
        await app.start()
        try:
            assert await asyncio.to_thread(probe, settings) == ("ok", 0)
        finally:
            await app.stop()


def test_organise_bot_health_when_it_is_off(tmp_path: Path) -> None:
    off = run(["health"], tmp_path)
    assert off.returncode == 2
    assert off.stderr.strip() == "the health endpoint is off: set [health] port (or HEALTH_PORT)"


# --- [health] in the config -----------------------------------------------------------


def test_health_is_off_and_on_loopback_unless_configured(tmp_path: Path) -> None:
    assert load(env={}).health == HealthSettings("127.0.0.1", 0)
    path = tmp_path / "config.toml"
    path.write_text('[health]\nlisten = "0.0.0.0"\nport = 9464\n')
    assert load(path, env={}).health == HealthSettings("0.0.0.0", 9464)
    assert load(path, env={"HEALTH_PORT": "9100"}).health == HealthSettings("0.0.0.0", 9100)


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ('listen = "example.org"', {}, "health.listen should be an IP address"),
        ("port = 70000", {}, "health.port should be between 0 and 65535"),
        ("", {"HEALTH_PORT": "lots"}, "HEALTH_PORT should be a whole number, not 'lots'"),
        ("", {"HEALTH_PORT": "-1"}, "HEALTH_PORT should be between 0 and 65535"),
    ],
)
def test_bad_health_settings_are_refused(
    tmp_path: Path, toml: str, env: dict[str, str], message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[health]\n{toml}\n")
    with pytest.raises(ConfigError, match=message):
        load(path, env=env)


# --- the error log ----------------------------------------------------------------------


def test_the_error_log_keeps_our_last_errors_without_their_arguments() -> None:
    errors = ErrorLog(kept=2)
    logger = logging.getLogger("bot.polls")
    logging.getLogger().addHandler(errors)
    try:
        logger.error("the oldest, pushed out")
        logger.error("first")
        try:
            raise KeyError("Alice Smith")
        except KeyError:
            logger.exception("handling %s failed", "Alice Smith's vote")
        logger.warning("only a warning")
        logging.getLogger("telegram.ext").error("a library's: %s", "Alice Smith")
    finally:
        logging.getLogger().removeHandler(errors)
    latest = errors.latest()
    assert [(e.where, e.what) for e in latest] == [
        ("bot.polls", "handling … failed (KeyError)"),
        ("bot.polls", "first"),
    ]


# --- started by organise-bot run --------------------------------------------------------


def test_run_serves_health_on_the_configured_port(tmp_path: Path) -> None:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        free = probe_socket.getsockname()[1]
    ran = run(["run"], tmp_path, "/help\n", HEALTH_PORT=str(free), LOG_LEVEL="info")
    assert ran.returncode == 0, ran.stderr
    assert f"health and metrics on http://127.0.0.1:{free}/healthz and /metrics" in ran.stderr


def test_run_stops_with_one_line_when_the_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = run(["run"], tmp_path, "/help\n", HEALTH_PORT=str(port))
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines() == [
        f"organise-bot: cannot serve /healthz on 127.0.0.1:{port}: Address already in use; "
        "change [health] port or listen"
    ]


async def test_the_timer_lag_is_how_late_the_last_timed_call_ran(clock: FakeClock) -> None:
    metrics = Metrics()
    timer = Timer(clock, real_time=False, on_late=metrics.timer_fired)
    ran: list[str] = []

    def job(name: str) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            ran.append(name)

        return call

    timer.at("reminder", clock.now() + timedelta(minutes=1), job("reminder"))
    clock.advance(minutes=3)
    await timer.run_due()
    assert metrics.timer_lag == 120
    clock.advance(minutes=5)
    timer.soon("work", job("work"))  # work to do now, not a time: no lag of its own
    await timer.run_due()
    await timer.stop()
    assert ran == ["reminder", "work"] and metrics.timer_lag == 120


def test_prometheus_client_is_imported_only_for_metrics() -> None:
    """So that an install without the [metrics] extra runs, and /metrics says why not."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, adapters.cli, adapters.health; print('prometheus_client' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"
