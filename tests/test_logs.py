"""The log: ``LOG_FORMAT=json`` lines that carry delivery and announcement ids as
fields of their own, and at info level nobody's name and no message's words."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters import logs
from bot.delivery import Permanent
from storage.db import Database
from tests.support.alerts_worker import AlertsConsole, TestPlatform, alerts_config
from tests.support.cli import run
from tests.support.clock import FakeClock
from tests.test_alerts_delivery import tagged_test_chats


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything logged at info level and above, as ``LOG_FORMAT=json`` writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter({"LOG_FORMAT": "json"}))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_an_announcement_is_logged_by_its_ids_and_without_its_words(
    database: Database, database_url: str, clock: FakeClock, json_log: io.StringIO
) -> None:
    platform = TestPlatform("t")
    platform.fail("-2", Permanent("Forbidden: bot was kicked from the group chat", chat_gone=True))
    async with AlertsConsole(alerts_config(database_url), clock, platform) as bot:
        await tagged_test_chats(bot.app.db, clock, 3)
        out = await bot.say("/alert send region:x Picket at Smith's depot, 7am")  # by alice
        assert "Alert #1 to 3 chats" in out

    logged = records(json_log)
    assert {"time", "level", "name", "message"} <= set(logged[0])
    (announced,) = [r for r in logged if "announcement_id" in r]
    assert announced["announcement_id"] == 1 and announced["message"] == (
        "announcement 1 goes to 3 chats"
    )
    (failed,) = [r for r in logged if r["message"].startswith("delivery ")]
    assert failed["level"] == "INFO" and failed["platform"] == "test"
    assert failed["message"] == f"delivery {failed['delivery_id']} failed (Permanent)"
    text = json_log.getvalue()
    for personal in ("Picket", "depot", "alice", "Alice", "Smith", "chat 2", "Forbidden"):
        assert personal not in text


def test_log_format_comes_from_the_environment(tmp_path: Path) -> None:
    shaped = run(["console"], tmp_path, "/help\n", LOG_LEVEL="info", LOG_FORMAT="json")
    wrong = run(["console"], tmp_path, "/help\n", LOG_FORMAT="xml")

    lines = [json.loads(line) for line in shaped.stderr.splitlines()]
    assert lines and all(line["level"] in {"INFO", "WARNING"} for line in lines)
    assert wrong.returncode == 2
    assert (
        wrong.stderr.strip() == "organise-bot: config: LOG_FORMAT should be text or json, not 'xml'"
    )
