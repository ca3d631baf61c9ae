"""The package a server installs: the wheel holds the bot and its migrations, its
extras keep PostgreSQL, webhook and metrics libraries optional, the lock pins every
library within pyproject.toml's ranges, and ``make run`` installs no dev tools."""

from __future__ import annotations

import email
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel, built offline from this checkout with the dev tools' setuptools."""
    out = tmp_path_factory.mktemp("wheel")
    offline = ["--no-deps", "--no-build-isolation"]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", *offline, "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("organise_bot-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_holds_the_bot_and_every_migration(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    migrations = ROOT / "storage" / "migrations"
    expected = {"storage/migrations/env.py", "storage/migrations/script.py.mako"} | {
        f"storage/migrations/versions/{version.name}"
        for version in (migrations / "versions").glob("*.py")
    }
    assert expected <= names
    assert {"bot/core.py", "adapters/cli.py", "storage/db.py"} <= names
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def test_the_wheel_keeps_postgres_webhook_and_metrics_optional(wheel: zipfile.ZipFile) -> None:
    [metadata_name] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    metadata = email.message_from_bytes(wheel.read(metadata_name))
    assert {"postgres", "webhook", "metrics", "dev"} <= set(metadata.get_all("Provides-Extra"))
    required = [Requirement(line) for line in metadata.get_all("Requires-Dist")]
    always = {r.name.lower() for r in required if r.marker is None}
    assert {"python-telegram-bot", "discord.py", "sqlalchemy", "aiosqlite"} <= always
    assert not always & {"asyncpg", "prometheus-client", "tornado", "pytest"}
    [telegram] = [r for r in required if r.name == "python-telegram-bot" and r.marker is None]
    assert not telegram.extras, "the webhook server is the [webhook] extra's"
    [entry_points] = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert "organise-bot = adapters.cli:main" in wheel.read(entry_points).decode()


def locked() -> dict[str, str]:
    """requirements.lock's pins, by normalised name; each must carry hashes."""
    text = (ROOT / "requirements.lock").read_text()
    pins: dict[str, str] = {}
    for block in re.split(r"\n(?=\S)", text):
        head = block.split(" \\", 1)[0].split(";")[0].strip()
        if not head or head.startswith("#"):
            continue
        assert "--hash=sha256:" in block, f"{head} has no hash"
        name, version = head.split("==")
        pins[_normal(name)] = version
    return pins


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_lock_pins_every_library_within_its_range() -> None:
    pins = locked()
    wanted = [Requirement(line) for line in PROJECT["dependencies"]] + [
        Requirement(line)
        for extra, lines in PROJECT["optional-dependencies"].items()
        if extra != "dev"
        for line in lines
    ]
    for requirement in wanted:
        version = pins.get(_normal(requirement.name))
        assert version is not None, f"{requirement.name} is not in requirements.lock"
        assert requirement.specifier.contains(version), f"{requirement} but locked {version}"
    assert not {"pytest", "ruff", "mypy", "hypothesis"} & set(pins), "dev tools in the lock"


def test_make_run_installs_no_dev_tools(tmp_path: Path) -> None:
    """What ``make run`` would do on a fresh clone (``make -n``: printed, not run)."""

    def plan(target: str) -> str:
        return subprocess.run(
            ["make", "-n", "-C", str(ROOT), target, f"VENV={tmp_path / 'venv'}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    run_plan, test_plan = plan("run"), plan("test")

    assert "--require-hashes -r requirements.lock" in run_plan
    assert "[dev]" not in run_plan
    assert "organise-bot run" in run_plan
    assert "'.[dev]'" in test_plan and "pytest" in test_plan
