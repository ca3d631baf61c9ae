"""The installed ``organise-bot`` command, run in a child process as a newcomer would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).with_name("organise-bot")
ROOT = Path(__file__).resolve().parent.parent.parent
# A token in Telegram's shape that no log line or message may ever show.
TOKEN = "123456:AAH-the-real-secret-token"
# What the environment may say that a test must not inherit from whoever runs it.
SETTINGS = {
    "TELEGRAM_BOT_TOKEN",
    "DISCORD_BOT_TOKEN",
    "DATABASE_URL",
    "ORGANISE_CONFIG",
    "HEALTH_PORT",
    "LOG_LEVEL",
    "LOG_FORMAT",
}


def run(
    args: list[str], cwd: Path, stdin: str = "", *, program: list[str] | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``organise-bot args…`` in ``cwd`` (or ``program`` instead of the installed
    command) with ``env`` added to a clean environment."""
    clean = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    return subprocess.run(
        [*(program or [str(BIN)]), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **env},
    )


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def aimed_at_discord(port: int) -> list[str]:
    """``organise-bot`` with discord.py aimed at 127.0.0.1:``port``, as the tests'
    fake Discord does in-process: the real command, in a child process."""
    launch = (
        "import sys; from tests.fakes.discord.api import aim_discord_py; "
        "aim_discord_py(int(sys.argv[1])); from adapters.cli import main; "
        "sys.exit(main(sys.argv[2:]))"
    )
    return [sys.executable, "-c", launch, str(port)]
