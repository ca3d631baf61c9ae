"""The installed ``organise-bot`` command, run in a child process as a newcomer would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).with_name("organise-bot")
# What the environment may say that a test must not inherit from whoever runs it.
SETTINGS = {"TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "DATABASE_URL", "ORGANISE_CONFIG"}


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
