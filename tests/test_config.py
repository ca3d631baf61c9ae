"""Config: every key documented in the example loads; bad config gets one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import config as configuration
from bot.config import Config, ConfigError

ROOT = Path(__file__).resolve().parent.parent


def load_text(tmp_path: Path, text: str, **env: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return configuration.load(path, env=env)


def test_the_example_config_loads_and_matches_the_defaults() -> None:
    loaded = configuration.load(ROOT / "config.example.toml", env={})
    assert loaded == Config()


def test_no_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert configuration.load(env={}) == Config()


def test_secrets_and_database_come_from_the_environment(tmp_path: Path) -> None:
    loaded = load_text(
        tmp_path,
        "",
        TELEGRAM_BOT_TOKEN=" 123:abc ",
        DISCORD_BOT_TOKEN="xyz",
        DATABASE_URL="postgresql+asyncpg://u@h/db",
    )
    assert loaded.telegram_token == "123:abc"
    assert loaded.discord_token == "xyz"
    assert loaded.database.url == "postgresql+asyncpg://u@h/db"
    assert "123:abc" not in repr(loaded)


def test_config_path_from_environment(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('[bot]\nname = "Cannock bot"\n')
    assert configuration.load(env={"ORGANISE_CONFIG": str(path)}).bot.name == "Cannock bot"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[bot]\nnmae = 'x'\n", "unknown key 'bot.nmae'"),
        ("[outbox]\nmax_attempts = 'lots'\n", "outbox.max_attempts should be a whole number"),
        ("[roles]\nadmins = 'me'\n", "roles.admins should be a list"),
        ("[roles]\nadmins = ['alice']\n", "roles.admins entry 'alice' should look like"),
        ("[bot]\ntimezone = 'Europe/Cannock'\n", "is not a known time zone"),
        ("[database]\nurl = 'mysql://x'\n", "database.url should start with"),
        ("telegram_token = '1:x'\n", "must not be in a file"),
        ("[telegram]\nmode = 'webhook'\n", "telegram.webhook_url should be"),
        ("[bot\n", "is not valid TOML"),
        ("bot = 3\n", "[bot] should be a table"),
    ],
)
def test_bad_config_is_named_clearly(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        load_text(tmp_path, text)
    assert message in str(caught.value)


def test_a_missing_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        configuration.load(tmp_path / "nope.toml", env={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rate_limit]\ncommands = -1\n", "rate_limit.commands should be from 0 (off) to 10000"),
        ("[rate_limit]\nseconds = 0\n", "rate_limit.seconds should be more than 0"),
        ("[rate_limit]\ncommands = 2.5\n", "rate_limit.commands should be a whole number"),
    ],
)
def test_a_bad_rate_limit_is_named_clearly(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text)
    assert message in str(caught.value)


def test_the_rate_limit_is_read(tmp_path: Path) -> None:
    limit = load_text(tmp_path, "[rate_limit]\ncommands = 5\nseconds = 60\n").rate_limit
    assert (limit.commands, limit.seconds) == (5, 60.0)
