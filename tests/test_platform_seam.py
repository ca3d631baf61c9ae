"""The platform seam: the core names no platform; a platform is its spec, registered
at start, whose table, token and roles the core reads without knowing it."""

from __future__ import annotations

import ast
import asyncio
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

import adapters.runner
from adapters.discord import SPEC as DISCORD
from adapters.discord import DiscordSettings
from adapters.runner import PLATFORMS, serving
from bot import config as configuration
from bot.config import ConfigError, bounded
from bot.delivery import UNPACED
from bot.platform import (
    NO_ROLES,
    Adapter,
    EventHandler,
    PlatformRoles,
    PlatformSpec,
    Setup,
    platform_roles,
    register,
)
from bot.types import Delivery
from tests.support.config import make_config

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_WORDS = ("telegram", "discord")


def identifiers(tree: ast.AST) -> set[str]:
    """Every name the code uses (not the words it says): imports, names, attributes,
    definitions and arguments."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= {alias.name for alias in node.names}
            found.add(getattr(node, "module", None) or "")
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
    return found


def test_the_core_names_no_platform_in_its_code() -> None:
    """Help texts may say "Telegram"; no name in bot/ may be one."""
    for path in sorted((ROOT / "bot").rglob("*.py")):
        names = identifiers(ast.parse(path.read_text(encoding="utf-8")))
        named = sorted(n for n in names if any(word in n.lower() for word in PLATFORM_WORDS))
        assert not named, f"{path.relative_to(ROOT)} names {named}"


def test_migrations_load_the_tables_without_the_features() -> None:
    tree = ast.parse((ROOT / "storage/migrations/env.py").read_text(encoding="utf-8"))
    imported = {n for n in identifiers(tree) if "." in n or n in {"bot", "adapters"}}
    assert not {n for n in imported if n.split(".")[0] in {"bot", "adapters"}}


def test_every_platform_is_registered_once_in_start_order() -> None:
    assert [spec.name for spec in PLATFORMS] == ["telegram", "discord", "console"]
    assert configuration.platform_names() == ["console", "discord", "telegram"]


def test_platform_roles_come_from_the_platforms_own_settings() -> None:
    settings = DiscordSettings(tulo_roles=["1:2"], organiser_roles=["1:3"])
    config = make_config("sqlite+aiosqlite://").with_platform(DISCORD.name, settings)
    assert platform_roles(config, "discord") == PlatformRoles(
        tulo=frozenset({"1:2"}), organiser=frozenset({"1:3"})
    )
    assert platform_roles(config, "console") == NO_ROLES  # the console has no roles
    assert platform_roles(config, "nowhere") == NO_ROLES


@dataclass(frozen=True)
class CarrierSettings:
    """A made-up platform's table."""

    pigeons: int = bounded(3, 1, 12)
    loft: str = "roof"


def carrier_check(settings: CarrierSettings) -> None:
    if not settings.loft:
        raise ConfigError("carrier.loft should name the loft")


class Carrier:
    """A made-up platform's adapter, refused for good just after it started."""

    platform = "carrier"
    pacing = UNPACED

    def __init__(self, setup: Setup[CarrierSettings]) -> None:
        self.setup = setup
        self.listening = False
        BUILT.append(self)

    async def deliver(self, delivery: Delivery) -> tuple[str, ...]:
        return ()

    async def start(self, on_event: EventHandler) -> None:
        self.listening = True
        refused = ConfigError("the carrier refused the token")
        asyncio.get_running_loop().call_soon(self.setup.on_failure, refused)

    async def stop(self) -> None:
        self.listening = False


BUILT: list[Carrier] = []


def carrier_build(setup: Setup[CarrierSettings]) -> Adapter:
    return Carrier(setup)


CARRIER = PlatformSpec(
    "carrier", CarrierSettings, carrier_build, token_env="CARRIER_TOKEN", check=carrier_check
)


@pytest.fixture
def carrier(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registered for this test alone."""
    monkeypatch.setattr(configuration, "_SECTIONS", dict(configuration._SECTIONS))
    register(CARRIER)


@pytest.mark.usefixtures("carrier")
def test_a_new_platforms_table_and_token_are_read_by_its_spec(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[carrier]\npigeons = 5\n\n[roles]\nadmins = ["carrier:7"]\n')
    loaded = configuration.load(path, env={"CARRIER_TOKEN": " coo "})
    assert CARRIER.section(loaded) == CarrierSettings(pigeons=5)
    assert CARRIER.token(loaded) == "coo"
    assert [spec.name for spec in serving(loaded)] == []  # serving lists the runner's own


@pytest.mark.usefixtures("carrier")
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[carrier]\npigeons = 40\n", "carrier.pigeons should be between 1 and 12"),
        ("[carrier]\nloft = ''\n", "carrier.loft should name the loft"),
        ("[carrier]\nhawks = 1\n", "unknown key 'carrier.hawks'"),
        ("carrier_token = 'x'\n", "carrier_token must not be in a file"),
    ],
)
def test_a_new_platforms_bad_table_is_named_clearly(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        configuration.load(path, env={})
    assert message in str(caught.value)


def test_an_unregistered_platforms_table_is_an_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[carrier]\npigeons = 5\n")
    with pytest.raises(ConfigError, match=r"unknown key 'carrier'; expected one of: .*telegram"):
        configuration.load(path, env={})


@pytest.mark.usefixtures("carrier")
async def test_the_runner_starts_every_adapter_alike_and_stops_on_a_failure(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An adapter refused for good after it started stops the whole run, which says
    why (organise-bot turns a ConfigError into exit status 2)."""
    monkeypatch.setattr(adapters.runner, "PLATFORMS", (CARRIER, *PLATFORMS))
    config = dataclasses.replace(make_config(sqlite_url), tokens={"carrier": "coo"})
    BUILT.clear()
    with pytest.raises(ConfigError, match="the carrier refused the token"):
        await adapters.runner.run(config, interactive=False)
    (carrier,) = BUILT
    assert carrier.setup.token == "coo" and not carrier.listening
