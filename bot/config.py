"""Configuration: one TOML file (``config.example.toml`` documents every key) read
into typed dataclasses, plus secrets and overrides from the environment.

Bad config stops the bot with one clear sentence naming the key and what was
expected (:class:`ConfigError`), never a traceback. Every number has bounds
(:func:`bounded`) and every address is checked at load: a value that would only
fail later — a zero lease sending messages twice, a mistyped Bot API address
quoting the token in a traceback — is refused before anything starts. Tokens are
*only* read from the environment so that no committed file can ever hold one.

The core's own tables are fields of :class:`Config`; each platform's table is read
by the platform's spec (:mod:`bot.platform`), registered at start, into
``Config.platforms``, and its token into ``Config.tokens``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.faults import StartupError

DEFAULT_PATH = Path("config.toml")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(StartupError):
    """A problem with the configuration, worded for the person running the bot."""


@dataclass(frozen=True)
class Bounds:
    """The values a number in the config may take, both ends included."""

    low: float
    high: float
    why: str = ""  # what goes wrong outside them, where that is not obvious

    def check(self, name: str, value: float) -> None:
        if not self.low <= value <= self.high:  # NaN fails too
            why = f" ({self.why})" if self.why else ""
            raise ConfigError(
                f"{name} should be between {_number(self.low)} and {_number(self.high)}, "
                f"not {value!r}{why}"
            )


Number = TypeVar("Number", int, float)
Settings = TypeVar("Settings")


def bounded(default: Number, low: float, high: float, why: str = "") -> Number:
    """A numeric setting with the :class:`Bounds` that ``load`` checks."""
    return field(default=default, metadata={"bounds": Bounds(low, high, why)})


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


@dataclass(frozen=True)
class BotSettings:
    name: str = "Organise bot"
    timezone: str = "Europe/London"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite+aiosqlite:///organise.db"


@dataclass(frozen=True)
class RolesSettings:
    # People who are admins everywhere, as "platform:id". Console people can only be
    # typed at this machine's terminal, so the shipped default makes its default
    # person an admin and a newcomer can try every command.
    admins: list[str] = field(default_factory=lambda: ["console:alice"])
    # A platform's own chat admins (Telegram administrators, Discord "Manage Server")
    # count as organisers of that chat.
    platform_admins_are_organisers: bool = True


@dataclass(frozen=True)
class OutboxSettings:
    max_attempts: int = bounded(8, 1, 100)
    lease_seconds: float = bounded(
        60.0, 10, 86400, "a send may take 10 s; a row whose lease ends mid-send is sent twice"
    )
    poll_seconds: float = bounded(1.0, 0.01, 3600)
    backoff_cap_seconds: float = bounded(600.0, 1, 86400)


@dataclass(frozen=True)
class AlertsSettings:
    """Announcements (bot/alerts): previews, receipts, reminders and the digest."""

    # An announcement reaching more chats than this first shows the sender a preview
    # with the chat count and a Confirm button.
    confirm_above_chats: int = bounded(20, 0, 1_000_000)
    # The sender's live delivery receipt is edited at most this often.
    receipt_edit_seconds: float = bounded(2.0, 0, 3600)
    # "I'll be there" presses update the count on every copy at most this often.
    count_edit_seconds: float = bounded(2.0, 0, 3600)
    # Local time of the personal picket reminder on the picket's day (an hour before
    # the start instead, if that is earlier).
    reminder_time: str = "07:00"
    # The weekly digest's default day and local time (/digest on [day] [HH:MM]).
    digest_day: str = "monday"
    digest_time: str = "08:00"

    def __post_init__(self) -> None:
        for name in ("reminder_time", "digest_time"):
            value = getattr(self, name)
            if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
                raise ConfigError(f'alerts.{name} should be a time like "07:00", not {value!r}')
        if self.digest_day not in WEEKDAYS:
            raise ConfigError(f"alerts.digest_day should be one of {', '.join(WEEKDAYS)}")


@dataclass(frozen=True)
class NetworkSettings:
    # false: a group chat belongs to the organisation only once an admin or TULO
    # approves it (/invite and /join, or /chats pending). true: every chat the bot
    # is in belongs — only for a bot kept in one trusted server.
    open: bool = False


@dataclass(frozen=True)
class MeetingsSettings:
    # A reminder that fell due while the bot was down is sent at start (marked late)
    # if it is at most this many minutes overdue; older ones are skipped and logged.
    reminder_grace_minutes: int = bounded(60, 0, 10080)


@dataclass(frozen=True)
class NewcomersSettings:
    """The follow-up of people who join a chat (/newcomers on)."""

    # A newcomer nobody has said they will contact is raised again to the chat's
    # organisers after this many days, and listed for TULOs and admins.
    remind_after_days: int = bounded(3, 1, 365)


@dataclass(frozen=True)
class RotasSettings:
    """Volunteer rotas (/rota): reminders to those signed up, notes about gaps."""

    # Those signed up for a shift are reminded this many hours before it (0: never).
    remind_hours_before: int = bounded(24, 0, 24 * 14)
    # A date still not full this many days ahead is posted to the rota's chats as
    # "help wanted" (0: never).
    gaps_days_before: int = bounded(2, 0, 28)


@dataclass(frozen=True)
class RateLimitSettings:
    """How fast one person may send commands (and press buttons) in one chat."""

    # More than ``commands`` in ``seconds`` and they are told once to slow down;
    # the rest are dropped unanswered until the rate allows again. 0 turns it off.
    commands: int = bounded(10, 0, 10_000, "0 turns it off")
    seconds: float = bounded(30.0, 0.001, 86_400)


@dataclass(frozen=True)
class RetentionSettings:
    """How long personal data is kept, in days; 0 keeps it for ever. A purge runs at
    start and daily (``organise-bot db purge --dry-run`` shows what would go)."""

    # Messages the bot has delivered (or given up on): their text, buttons and files
    # are emptied; the row stays only as a record that a message went.
    delivered_messages_days: int = bounded(30, 0, 36_500)
    # Who voted how in a named poll, once it closed: the counts stay, the names go.
    closed_poll_voters_days: int = bounded(30, 0, 36_500)
    # RSVPs of meetings, "I'll be there" pledges of pickets and rota sign-ups that
    # are over.
    past_rsvps_days: int = bounded(30, 0, 36_500)
    # The audit of announcements, corrections, cancels and erasures.
    audit_days: int = bounded(365, 0, 36_500)
    # Newcomers on a follow-up list nobody marked contacted (/newcomers).
    newcomers_days: int = bounded(30, 0, 36_500)


@dataclass(frozen=True)
class HealthSettings:
    """The operator's HTTP endpoints: ``/healthz`` and ``/metrics`` (adapters/health.py).

    Off unless a port is set: two processes on one machine would otherwise fight
    over it. Loopback by default: the numbers are the operator's, not the world's."""

    listen: str = "127.0.0.1"
    port: int = bounded(0, 0, 65535, "0 turns it off")

    def __post_init__(self) -> None:
        try:
            ipaddress.ip_address(self.listen)
        except ValueError:
            raise ConfigError(
                f'health.listen should be an IP address such as "127.0.0.1" or "0.0.0.0", '
                f"not {self.listen[:60]!r}"
            ) from None


@dataclass(frozen=True)
class Config:
    bot: BotSettings = field(default_factory=BotSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    roles: RolesSettings = field(default_factory=RolesSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    alerts: AlertsSettings = field(default_factory=AlertsSettings)
    meetings: MeetingsSettings = field(default_factory=MeetingsSettings)
    newcomers: NewcomersSettings = field(default_factory=NewcomersSettings)
    rotas: RotasSettings = field(default_factory=RotasSettings)
    rate_limit: RateLimitSettings = field(default_factory=RateLimitSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    # Each platform's settings, by name, as its spec read them from its table
    # (bot.platform.PlatformSpec.section reads them back, typed).
    platforms: Mapping[str, object] = field(default_factory=dict)
    # Each platform's token, by name: secrets, from the environment only.
    tokens: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.bot.timezone)

    def with_platform(self, name: str, settings: object) -> Config:
        """This config with ``name``'s settings replaced (the console's --chat, tests)."""
        return dataclasses.replace(self, platforms={**self.platforms, name: settings})


class Section(Protocol):
    """What the config needs of a platform (:class:`bot.platform.PlatformSpec`):
    the name of its table, the variable holding its token, and how to read the
    table."""

    @property
    def name(self) -> str: ...

    @property
    def token_env(self) -> str: ...

    def parse(self, raw: object) -> object: ...


_SECTIONS: dict[str, Section] = {}
NOT_KEYS = {"platforms", "tokens"}  # filled from the platforms' tables and the environment


def register(section: Section) -> None:
    """Make a platform's table (and token) known to :func:`load`; ``adapters.runner``
    registers every platform at start."""
    _SECTIONS[section.name] = section


def registered(name: str) -> Section | None:
    return _SECTIONS.get(name)


def platform_names() -> list[str]:
    return sorted(_SECTIONS)


def load(path: str | Path | None = None, env: typing.Mapping[str, str] | None = None) -> Config:
    """Read the config file (``path``, else ``$ORGANISE_CONFIG``, else ``config.toml``
    if it exists, else built-in defaults) and the environment."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    source = config_file(path, env)
    if source is not None:
        try:
            raw = tomllib.loads(source.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{source} is not valid TOML: {error}") from None
    for key in ("tokens", *(f"{name}_token" for name in _SECTIONS)):
        if key in raw:
            raise ConfigError(f"{key} must not be in a file: set it in the environment instead")
    platforms = {name: section.parse(raw.pop(name, {})) for name, section in _SECTIONS.items()}
    config: Config = _build(Config, raw, "")
    tokens = {
        name: token
        for name, section in _SECTIONS.items()
        if section.token_env and (token := env.get(section.token_env, "").strip())
    }
    overrides: dict[str, Any] = {"platforms": platforms, "tokens": tokens}
    if env.get("DATABASE_URL"):
        overrides["database"] = DatabaseSettings(url=env["DATABASE_URL"])
    if env.get("HEALTH_PORT", "").strip():
        port = _whole(env["HEALTH_PORT"], "HEALTH_PORT")
        Bounds(0, 65535, "0 turns it off").check("HEALTH_PORT", port)
        overrides["health"] = dataclasses.replace(config.health, port=port)
    config = dataclasses.replace(config, **overrides)
    _check(config)
    return config


def _whole(text: str, name: str) -> int:
    """A whole number from the environment."""
    try:
        return int(text.strip())
    except ValueError:
        raise ConfigError(f"{name} should be a whole number, not {text.strip()[:20]!r}") from None


def config_file(
    path: str | Path | None = None, env: typing.Mapping[str, str] | None = None
) -> Path | None:
    """The file :func:`load` reads, or None for the built-in defaults."""
    env = os.environ if env is None else env
    chosen = (
        Path(path) if path else Path(env["ORGANISE_CONFIG"]) if env.get("ORGANISE_CONFIG") else None
    )
    if chosen is not None and not chosen.is_file():
        raise ConfigError(f"config file {chosen} does not exist")
    return chosen or (DEFAULT_PATH if DEFAULT_PATH.is_file() else None)


def read_table(cls: type[Settings], raw: object, where: str) -> Settings:
    """A platform's table read into its settings dataclass like every other table:
    unknown keys refused, types coerced, :func:`bounded` numbers checked."""
    settings: Settings = _build(cls, raw, where)
    return settings


def _build(cls: type[Any], raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{where}] should be a table of keys")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in NOT_KEYS}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        known = ", ".join(sorted([*fields, *(_SECTIONS if cls is Config else ())]))
        raise ConfigError(f"unknown key {_name(where, unknown[0])!r}; expected one of: {known}")
    values = {}
    for key, value in raw.items():
        expected = hints[key]
        name = _name(where, key)
        if dataclasses.is_dataclass(expected):
            values[key] = _build(typing.cast(type[Any], expected), value, name)
        else:
            values[key] = _coerce(expected, value, name)
            bounds = fields[key].metadata.get("bounds")
            if bounds is not None:
                bounds.check(name, values[key])
    return cls(**values)


def _coerce(expected: Any, value: Any, name: str) -> Any:
    origin = typing.get_origin(expected)
    if origin is list:
        (item_type,) = typing.get_args(expected)
        if not isinstance(value, list):
            raise ConfigError(f"{name} should be a list, e.g. {name} = []")
        return [_coerce(item_type, item, f"{name}[{i}]") for i, item in enumerate(value)]
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"{name}: unsupported type")  # pragma: no cover - no such fields
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is bool and not isinstance(value, bool):
        raise ConfigError(f"{name} should be true or false, not {value!r}")
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(f"{name} should be {_describe(expected)}, not {value!r}")
    return value


def _describe(kind: type[Any]) -> str:
    return {str: "text in quotes", int: "a whole number", float: "a number"}.get(
        kind, kind.__name__
    )


def _name(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _check(config: Config) -> None:
    try:
        config.zone  # noqa: B018 - validates the name
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a path
        raise ConfigError(
            f"bot.timezone {config.bot.timezone[:60]!r} is not a known time zone, "
            'e.g. "Europe/London"'
        ) from None
    _check_database_url(config.database.url)
    if config.database.url.startswith("postgresql"):
        needs_extra("asyncpg", "postgres", "a PostgreSQL database.url")
    for entry in config.roles.admins:
        platform, _, ident = entry.partition(":")
        if platform not in _SECTIONS or not ident:
            raise ConfigError(f'roles.admins entry {entry!r} should look like "telegram:123456"')


def needs_extra(module: str, extra: str, what: str) -> None:
    """Libraries a SQLite polling install does without come as extras of the package."""
    if find_spec(module) is None:
        raise ConfigError(f'{what} needs the {extra} extra: pip install "organise-bot[{extra}]"')


def is_address(url: str, schemes: set[str]) -> bool:
    """An absolute URL with one of ``schemes``, a host and, if given, a valid port."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    return parts.scheme in schemes and bool(parts.hostname)


def _check_database_url(url: str) -> None:
    """Only the two supported drivers, and a URL SQLAlchemy can read; the message
    never repeats the URL, which may hold a password."""
    expected = "database.url should start with sqlite+aiosqlite:// or postgresql+asyncpg://"
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(expected)
    try:
        make_url(url)
    except (ArgumentError, ValueError):
        raise ConfigError(f"database.url is not a valid address: {expected}") from None
