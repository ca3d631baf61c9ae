"""The seam between the core and the chat platforms.

The core knows a platform only by what it registers here: an :class:`Adapter` (a
transport for the outbox, plus a life-cycle) and a :class:`PlatformSpec` (its name,
its ``[name]`` config table, its token's environment variable, the roles its
people can hold, and how to build its adapter). Each adapter package exports its
spec; ``adapters.runner`` registers them all at start, so nothing in ``bot/``
names a platform and a new one is added without touching the core
(``docs/adding-a-platform.md``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from bot import config as configuration
from bot.config import Config
from bot.delivery import Transport
from bot.registry import Command
from bot.types import Event, EventResult
from storage.db import Database

log = logging.getLogger(__name__)

EventHandler = Callable[[Event], Awaitable[EventResult]]


class Adapter(Transport, Protocol):
    """What every adapter offers the application: a transport for the outbox plus a
    life-cycle. ``start`` begins listening and hands every platform update,
    translated into a core event, to ``on_event``; it returns once the adapter is
    listening. ``stop`` undoes it."""

    async def start(self, on_event: EventHandler) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class PlatformRoles:
    """The platform role ids (as ``UserRef.platform_roles`` carries them) that the
    config says make their holders TULOs, or organisers of an approved chat."""

    tulo: frozenset[str] = frozenset()
    organiser: frozenset[str] = frozenset()


NO_ROLES = PlatformRoles()

Settings = TypeVar("Settings")


def log_failure(error: BaseException) -> None:
    """Where an adapter's failure goes when nobody runs the bot to stop it."""
    log.error("an adapter stopped: %s", error)


@dataclass(frozen=True)
class Setup(Generic[Settings]):
    """What a spec's ``build`` is given to make its adapter. ``on_failure`` is for an
    adapter that stops by itself after it started (the platform refused it for
    good): ``organise-bot run`` then stops everything and says why."""

    config: Config
    settings: Settings
    token: str
    commands: Sequence[Command]
    database: Database
    on_failure: Callable[[BaseException], None] = log_failure


def _no_check(settings: Any) -> None:
    """Settings whose every value is checked by its type and bounds alone."""


def _never(settings: Any) -> bool:
    return False


@dataclass(frozen=True)
class Sharing:
    """How a platform's adapter shares its bot token with other processes on the
    same database (:mod:`storage.leadership`). One process, elected by
    ``election`` (the platform and a hash of the token), sends the token's
    messages, so that one pacer keeps the platform's limits; with
    ``listens_alone`` (Telegram's long polling) it is also the only one listening.
    Otherwise every process listens (webhook behind a load balancer, Discord
    shards) and writes its replies to the outbox for the elected sender."""

    election: str
    listens_alone: bool = False


def _no_roles(settings: Any) -> PlatformRoles:
    return NO_ROLES


@dataclass(frozen=True)
class PlatformSpec(Generic[Settings]):
    """A platform as the core sees it, exported by its adapter package.

    ``settings`` is the dataclass of its ``[name]`` table, read like every table
    (types, :func:`bot.config.bounded` numbers) and then ``check``ed as a whole;
    ``token_env`` names the environment variable holding its token ("" for none);
    ``roles`` reads the configured platform role ids; ``build`` makes its adapter
    (importing the platform's library only then); ``identify`` asks the platform
    whose token this is, for ``organise-bot check`` (a line saying it was accepted,
    or :class:`bot.faults.StartupError`)."""

    name: str
    settings: type[Settings]
    build: Callable[[Setup[Settings]], Adapter]
    token_env: str = ""
    check: Callable[[Settings], None] = field(default=_no_check)
    roles: Callable[[Settings], PlatformRoles] = field(default=_no_roles)
    identify: Callable[[Settings, str], Awaitable[str]] | None = None
    listens_alone: Callable[[Settings], bool] = field(default=_never)

    def parse(self, raw: object) -> Settings:
        """The ``[name]`` table, read and checked (:class:`bot.config.ConfigError`)."""
        settings: Settings = configuration.read_table(self.settings, raw, self.name)
        self.check(settings)
        return settings

    def section(self, config: Config) -> Settings:
        """This platform's settings in ``config`` (its defaults if it has none)."""
        found = config.platforms.get(self.name)
        return found if isinstance(found, self.settings) else self.settings()

    def token(self, config: Config) -> str:
        return config.tokens.get(self.name, "")

    def sharing(self, config: Config) -> Sharing:
        """Its election, named by a hash of the token (never the token itself):
        two bots on one database are elected apart."""
        digest = hashlib.sha256(self.token(config).encode()).hexdigest()[:16]
        return Sharing(f"{self.name}:{digest}", self.listens_alone(self.section(config)))


def register(*specs: PlatformSpec[Any]) -> None:
    """Make platforms known to the config (their tables and tokens) and to roles."""
    for spec in specs:
        configuration.register(spec)


def platform_roles(config: Config, platform: str) -> PlatformRoles:
    """The configured role ids of ``platform``: the "platform roles" hook of
    :mod:`bot.roles`."""
    found = configuration.registered(platform)
    return found.roles(found.section(config)) if isinstance(found, PlatformSpec) else NO_ROLES
