"""Faults at start give one clear line and a non-zero exit, never a traceback or the
token: each case run through the real ``organise-bot`` command in a child process.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.serve import served
from tests.support.cli import ROOT, TOKEN, aimed_at_discord, config, run


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def one_clear_line(result: subprocess.CompletedProcess[str], *words: str, status: int = 1) -> str:
    """The run failed with ``status`` and said why in one line holding ``words``:
    no traceback, no token, nothing else but info lines from before the fault (the
    migrations it ran)."""
    everything = result.stdout + result.stderr
    assert result.returncode == status, everything
    assert "Traceback" not in everything
    assert TOKEN not in everything and TOKEN.split(":")[1] not in everything
    *before, last = result.stderr.strip().splitlines()
    assert last.startswith("organise-bot: "), result.stderr
    assert all(word in last for word in words), last
    assert all(" INFO " in line for line in before), result.stderr
    return last


# --- the configuration ---------------------------------------------------------------


@pytest.mark.parametrize("lease", ["0", "-1", "nan"])
def test_a_lease_that_would_send_twice_is_refused(tmp_path: Path, lease: str) -> None:
    config(tmp_path, f"[outbox]\nlease_seconds = {lease}\n")

    result = run(["run"], tmp_path, "/help\n")

    one_clear_line(result, "outbox.lease_seconds should be between 10 and 86400", status=2)


def test_a_mistyped_bot_api_address_is_refused_without_the_token(tmp_path: Path) -> None:
    config(tmp_path, '[telegram]\nbase_url = "htp://127.0.0.1:8081/bot"\n')

    result = run(["run"], tmp_path, TELEGRAM_BOT_TOKEN=TOKEN)

    one_clear_line(result, "telegram.base_url should be", "htp://127.0.0.1:8081/bot", status=2)


# --- the database --------------------------------------------------------------------


def test_a_missing_database_folder_is_named_with_the_fix(tmp_path: Path) -> None:
    config(tmp_path, '[database]\nurl = "sqlite+aiosqlite:///gone/organise.db"\n')

    result = run(["run"], tmp_path, "/help\n")

    one_clear_line(result, "the database folder gone does not exist", "mkdir -p gone")


@contextlib.contextmanager
def read_only(how: str, folder: Path) -> Iterator[str]:
    """Make the migrated ``folder/organise.db`` read-only ``how``; yield its URL.

    Tests often run as root, whom file modes do not stop: there ``chmod`` is
    skipped, and ``chattr +i`` (immutable: not even root may write) or SQLite's own
    read-only mode stand in. Each is checked to really refuse writes first."""
    path = folder / "organise.db"
    if how == "uri":
        yield f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"
        return
    command = {"chmod": ["chmod", "0444"], "immutable": ["chattr", "+i"]}[how]
    undo = {"chmod": ["chmod", "0755"], "immutable": ["chattr", "-i"]}[how]
    files = [path, folder] if how == "chmod" else [path]
    try:
        for file in files:
            if subprocess.run([*command, str(file)], capture_output=True).returncode:
                pytest.skip(f"{command[0]} is not allowed here")
        if os.access(path, os.W_OK) and how == "chmod":
            pytest.skip("file modes do not stop this user (root) from writing")
        yield f"sqlite+aiosqlite:///{path}"
    finally:
        for file in files:
            subprocess.run([*undo, str(file)], capture_output=True)


@pytest.mark.parametrize("how", ["uri", "immutable", "chmod"])
def test_a_read_only_database_stops_the_start(tmp_path: Path, how: str) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    url = f"sqlite+aiosqlite:///{folder}/organise.db"
    assert run(["db", "upgrade"], tmp_path, DATABASE_URL=url).returncode == 0
    with read_only(how, folder) as read_only_url:
        result = run(["console"], tmp_path, "/help\n", DATABASE_URL=read_only_url)

    line = one_clear_line(result, "is read-only", "writable by the user running the bot")
    assert result.stdout == ""
    assert str(folder / "organise.db") in line


def test_an_unreachable_postgresql_is_named(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://organise:hunter2@127.0.0.1:{closed_port()}/organise"

    result = run(["db", "upgrade"], tmp_path, DATABASE_URL=url)

    line = one_clear_line(result, "cannot open the database 127.0.0.1:", "server is running")
    assert "hunter2" not in line


# --- the platforms -------------------------------------------------------------------


def test_an_unreachable_bot_api_is_one_line_without_the_token(tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{closed_port()}/bot"
    config(tmp_path, f'[telegram]\nbase_url = "{base_url}"\n')

    result = run(["run"], tmp_path, TELEGRAM_BOT_TOKEN=TOKEN)

    one_clear_line(result, f"cannot reach the Telegram Bot API at {base_url}", "network")


async def test_a_rejected_telegram_token_is_one_line(tmp_path: Path) -> None:
    async with served("telegram", limits=False) as fake:
        config(tmp_path, f'[telegram]\nbase_url = "{fake.telegram_base_url}"\n')
        result = run(["run"], tmp_path, TELEGRAM_BOT_TOKEN=TOKEN)

    one_clear_line(result, "Telegram rejected the bot token", status=2)


def test_an_unreachable_discord_is_one_line(tmp_path: Path) -> None:
    port = closed_port()

    result = run(
        ["run"],
        tmp_path,
        program=aimed_at_discord(port),
        DISCORD_BOT_TOKEN=TOKEN,
        PYTHONPATH=str(ROOT),
    )

    one_clear_line(result, f"cannot reach Discord at http://127.0.0.1:{port}/")


async def test_a_rejected_discord_token_is_one_line(tmp_path: Path) -> None:
    async with served("discord", limits=False) as fake:
        result = run(
            ["run"],
            tmp_path,
            program=aimed_at_discord(fake.port),
            DISCORD_BOT_TOKEN=TOKEN,
            PYTHONPATH=str(ROOT),
        )

    one_clear_line(result, "Discord refused DISCORD_BOT_TOKEN", status=2)
