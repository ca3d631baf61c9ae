"""Config: every key documented in the example loads; bad config gets one clear line."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

import pytest

from adapters.runner import PLATFORMS
from bot import config as configuration
from bot.config import Config, ConfigError

ROOT = Path(__file__).resolve().parent.parent


def load_text(tmp_path: Path, text: str, **env: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return configuration.load(path, env=env)


def defaults() -> Config:
    """The built-in defaults, every platform with its own."""
    return Config(platforms={spec.name: spec.settings() for spec in PLATFORMS}, tokens={})


def test_the_example_config_loads_and_matches_the_defaults() -> None:
    loaded = configuration.load(ROOT / "config.example.toml", env={})
    assert loaded == defaults()


def test_no_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert configuration.load(env={}) == defaults()


def test_secrets_and_database_come_from_the_environment(tmp_path: Path) -> None:
    loaded = load_text(
        tmp_path,
        "",
        TELEGRAM_BOT_TOKEN=" 123:abc ",
        DISCORD_BOT_TOKEN="xyz",
        DATABASE_URL="postgresql+asyncpg://u@h/db",
    )
    assert loaded.tokens == {"telegram": "123:abc", "discord": "xyz"}
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
        ("[outbox]\nlease_seconds = 0\n", "outbox.lease_seconds should be between 10 and"),
        ("[outbox]\nlease_seconds = -1\n", "outbox.lease_seconds should be between 10 and"),
        ("[outbox]\nlease_seconds = inf\n", "outbox.lease_seconds should be between"),
        ("[outbox]\npoll_seconds = 0\n", "outbox.poll_seconds should be between 0.01 and"),
        ("[outbox]\npoll_seconds = nan\n", "outbox.poll_seconds should be between"),
        ("[outbox]\nmax_attempts = 0\n", "outbox.max_attempts should be between 1 and 100"),
        ("[outbox]\nmax_attempts = 5000\n", "outbox.max_attempts should be between 1 and 100"),
        ("[outbox]\nbackoff_cap_seconds = 0\n", "outbox.backoff_cap_seconds should be between"),
        ("[alerts]\nreceipt_edit_seconds = -1\n", "alerts.receipt_edit_seconds should be"),
        ("[alerts]\nconfirm_above_chats = -5\n", "alerts.confirm_above_chats should be"),
        ("[telegram]\nwebhook_port = 0\n", "telegram.webhook_port should be between 1 and 65535"),
        ("[telegram]\nwebhook_port = 70000\n", "telegram.webhook_port should be between"),
        ("[meetings]\nreminder_grace_minutes = -1\n", "meetings.reminder_grace_minutes"),
        ("[telegram]\nbase_url = 'htp://x/bot'\n", "telegram.base_url should be empty or"),
        ("[telegram]\nbase_url = '127.0.0.1:8081/bot'\n", "telegram.base_url should be"),
        ("[telegram]\nbase_file_url = 'http://:99999/'\n", "telegram.base_file_url should"),
        ("[telegram]\nmode = 'webhook'\nwebhook_url = 'https://'\n", "telegram.webhook_url"),
        ("[discord]\nguilds = [-1]\n", "discord.guilds should hold server ids"),
        ("[database]\nurl = 'postgresql+asyncpg://u:pw@h:x/db'\n", "not a valid address"),
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
        ("[rate_limit]\ncommands = -1\n", "rate_limit.commands should be between 0 and 10000"),
        ("[rate_limit]\nseconds = 0\n", "rate_limit.seconds should be between 0.001"),
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


def test_every_number_has_bounds() -> None:
    """A number without bounds is one a typo can set to zero, negative or huge."""
    config = defaults()
    sections = [getattr(config, field.name) for field in dataclasses.fields(Config)]
    sections += config.platforms.values()
    for section in filter(dataclasses.is_dataclass, sections):
        kinds = typing.get_type_hints(type(section))
        for setting in dataclasses.fields(section):
            if kinds[setting.name] in (int, float):
                assert "bounds" in setting.metadata, f"{type(section).__name__}.{setting.name}"


def test_a_bad_database_url_never_repeats_its_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, "", DATABASE_URL="postgresql+asyncpg://u:hunter2@h:x/db")
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "missing", "extra"),
    [
        ("[telegram]\nmode = 'webhook'\nwebhook_url = 'https://x.org/t'\n", "tornado", "webhook"),
        ("[database]\nurl = 'postgresql+asyncpg://u@h/db'\n", "asyncpg", "postgres"),
    ],
)
def test_an_option_without_its_extra_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, missing: str, extra: str
) -> None:
    installed = configuration.find_spec
    monkeypatch.setattr(
        configuration, "find_spec", lambda name: None if name == missing else installed(name)
    )
    with pytest.raises(ConfigError, match=re.escape(f'pip install "organise-bot[{extra}]"')):
        load_text(tmp_path, text)


def test_a_very_long_time_zone_is_named_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, f'[bot]\ntimezone = "{"Europe/" * 2000}"\n')
    assert "is not a known time zone" in str(caught.value) and len(str(caught.value)) < 200
