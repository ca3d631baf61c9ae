"""The deployment files, checked as far as this machine allows: the systemd unit with
systemd's own tools, the Dockerfile and compose.yaml read for what they must hold
(there is no Docker daemon here to build or start them)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "organise-bot.service"
INSTALLED = "/opt/organise-bot/.venv"


def unit_here(tmp_path: Path) -> Path:
    """The unit with its commands pointed at this checkout's venv, which exists."""
    here = tmp_path / UNIT.name
    here.write_text(UNIT.read_text().replace(INSTALLED, str(Path(sys.executable).parent.parent)))
    return here


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd's tools")
def test_systemd_accepts_the_unit_and_rates_it_hardened(tmp_path: Path) -> None:
    here = unit_here(tmp_path)
    verified = subprocess.run(
        ["systemd-analyze", "verify", str(here)], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stderr
    rated = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--threshold=20", str(here)],
        capture_output=True,
        text=True,
    )
    assert rated.returncode == 0, rated.stdout
    exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)", rated.stdout)
    assert exposure is not None and float(exposure[1]) <= 2.0, rated.stdout[-300:]


def test_the_unit_runs_unprivileged_and_migrates_first() -> None:
    settings = unit_settings()
    assert settings["DynamicUser"] == ["yes"] and settings["NoNewPrivileges"] == ["yes"]
    assert settings["ProtectSystem"] == ["strict"]
    assert settings["ExecStartPre"] == [f"{INSTALLED}/bin/organise-bot db upgrade"]
    assert settings["ExecStart"] == [f"{INSTALLED}/bin/organise-bot run"]
    assert settings["EnvironmentFile"] == ["-/etc/organise-bot/env"]  # the tokens, mode 0600
    assert not any("TOKEN" in value for value in settings["Environment"])


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def test_the_image_runs_as_a_user_of_its_own_from_the_locked_libraries() -> None:
    steps = dockerfile()
    final = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM") :]
    ops = dict(final)
    users = [arguments for op, arguments in final if op == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert [i for i, (op, _) in enumerate(final) if op == "USER"][-1] > max(
        i for i, (op, _) in enumerate(final) if op == "RUN"
    ), "every RUN as root happens before USER"
    runs = " ".join(arguments for op, arguments in final if op == "RUN")
    assert "--require-hashes -r /tmp/requirements.lock" in runs
    assert "--no-deps /wheels/*.whl" in runs
    assert ops["HEALTHCHECK"].endswith('CMD ["organise-bot", "health"]')
    assert "HEALTH_PORT=9464" in ops["ENV"]
    assert ops["CMD"] == '["organise-bot", "run"]'
    copied = " ".join(arguments for op, arguments in steps if op == "COPY")
    for needed in ("pyproject.toml", "bot", "adapters", "storage", "requirements.lock"):
        assert needed in copied


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_compose_migrates_before_the_bot_and_checks_its_health() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "migrate", "bot"}
    assert services["migrate"]["command"] == ["organise-bot", "db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    bot = services["bot"]
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert bot["healthcheck"]["test"] == ["CMD", "organise-bot", "health"]
    assert bot["environment"]["HEALTH_PORT"] == "9464"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    url = bot["environment"]["DATABASE_URL"]
    assert url == services["migrate"]["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url


def test_compose_keeps_data_in_volumes_and_secrets_out_of_the_file() -> None:
    loaded = compose()
    volumes = set(loaded["volumes"])
    services = loaded["services"]
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert any(v.startswith("bot-data:") for v in services["bot"]["volumes"])
    assert volumes == {"postgres-data", "bot-data"}
    environment = services["bot"]["environment"]
    assert environment["TELEGRAM_BOT_TOKEN"].startswith("${")
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${")
