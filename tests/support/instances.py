"""Several real ``organise-bot run`` processes on one PostgreSQL database, for the
multi-process tests (tests/test_instances.py) and the scaling benchmark
(bench/instances.py). Each runs the installed command in a child process with a
config of its own and its log in a file; which of them leads what is read from
the log lines :mod:`storage.leadership` writes."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from sqlalchemy import insert

from bot.clock import SystemClock
from bot.outbox import BULK_LANE, Outbox
from bot.text import rich
from bot.types import ChatKind, ChatRef, Content, Outgoing
from storage.db import Database
from storage.models import Chat
from tests.support.cli import BIN, SETTINGS

# Group chat ids as Telegram has them: negative, so the per-group limit applies too.
FIRST_GROUP = -1001000000000


async def eventually(condition: Callable[[], bool], within: float, what: str) -> None:
    """Wait until ``condition()`` holds, looking every half second; fail with
    ``what`` after ``within`` seconds (generous: a loaded machine is slow).
    Polled: what it waits for happens in other processes, which set no event; and
    seldom, as an in-process fake server shares this event loop with the looking:
    a fake held up answers late, in bursts, that it then counts against the limits."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.5)


def config_text(url: str, base_url: str, *, webhook_port: int = 0) -> str:
    """A config for one process: the shared database, the fake Bot API, no console."""
    mode = (
        f'mode = "webhook"\nwebhook_port = {webhook_port}\n'
        f'webhook_url = "https://bot.example.org/telegram"\n'
        if webhook_port
        else ""
    )
    return (
        f'[bot]\ntimezone = "UTC"\n\n[database]\nurl = "{url}"\n\n'
        "[network]\nopen = true\n\n[outbox]\npoll_seconds = 0.5\nlease_seconds = 10\n\n"
        '[console]\nenabled = "no"\n\n'
        f'[telegram]\nbase_url = "{base_url}"\n{mode}'
    )


@dataclass(eq=False)
class Instance:
    """One ``organise-bot run`` process."""

    number: int
    process: asyncio.subprocess.Process
    log_path: Path
    log_file: IO[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def leads(self, election: str) -> bool:
        """Whether its log says it leads ``election`` (e.g. "telegram") now."""
        text = self.log()
        return text.count(f"now leads {election}") > text.count(f"no longer leads {election}")

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def kill(self) -> None:
        """SIGKILL: no goodbye, no lock given up but by the connection dying."""
        self.process.send_signal(signal.SIGKILL)


@dataclass
class Instances:
    """``count`` processes, started one after the other (the first leads)."""

    folder: Path
    url: str
    token: str
    base_url: str
    count: int
    webhook_ports: Sequence[int] = ()
    started: list[Instance] = field(default_factory=list)

    async def __aenter__(self) -> Self:
        for number in range(self.count):
            port = self.webhook_ports[number] if self.webhook_ports else 0
            instance = await self.start(number, port)
            if number == 0 and not self.webhook_ports:
                await eventually(
                    lambda i=instance: i.leads("telegram") or not i.running,  # type: ignore[misc]
                    120,
                    "the first process never led",
                )
                assert instance.running, instance.log()
        return self

    async def start(self, number: int, webhook_port: int = 0) -> Instance:
        folder = self.folder / f"instance{number}"
        folder.mkdir(exist_ok=True)
        config = folder / "config.toml"
        config.write_text(config_text(self.url, self.base_url, webhook_port=webhook_port))
        log_path = folder / "bot.log"
        log_file = log_path.open("wb")
        clean = {k: v for k, v in os.environ.items() if k not in SETTINGS}
        process = await asyncio.create_subprocess_exec(
            str(BIN),
            "run",
            "--config",
            str(config),
            cwd=folder,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            env={**clean, "TELEGRAM_BOT_TOKEN": self.token, "LOG_LEVEL": "INFO"},
        )
        instance = Instance(number, process, log_path, log_file)
        self.started.append(instance)
        return instance

    def leader(self, election: str = "telegram") -> Instance | None:
        leading = [i for i in self.started if i.running and i.leads(election)]
        return leading[0] if len(leading) == 1 else None

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """SIGTERM each one still running, as systemd stops it; SIGKILL after a while."""
        for instance in self.started:
            if instance.running:
                instance.process.send_signal(signal.SIGTERM)
        for instance in self.started:
            try:
                async with asyncio.timeout(60):
                    await instance.process.wait()
            except TimeoutError:
                instance.kill()
                await instance.process.wait()
            instance.log_file.close()


async def add_groups(database: Database, count: int) -> list[str]:
    """``count`` approved Telegram groups; returns their chat ids."""
    now = SystemClock().now()
    ids = [str(FIRST_GROUP - n) for n in range(count)]
    rows = [
        {
            "platform": "telegram",
            "platform_chat_id": chat_id,
            "title": f"Group {n}",
            "kind": ChatKind.GROUP.value,
            "active": True,
            "approved": True,
            "inactive_reason": "",
            "created_at": now,
        }
        for n, chat_id in enumerate(ids)
    ]
    async with database.session() as session:
        await session.execute(insert(Chat), rows)
    return ids


async def broadcast(database: Database, chat_ids: Sequence[str], text: str) -> None:
    """What an announcement writes: one keyed row per chat, in the bulk lane."""
    messages = [
        Outgoing(
            ChatRef("telegram", chat_id, "", ChatKind.GROUP),
            Content(rich(f"{text} {n}")),
            dedupe_key=f"test-broadcast:{n}",
        )
        for n, chat_id in enumerate(chat_ids)
    ]
    async with database.session() as session:
        await Outbox(SystemClock()).enqueue(session, messages, BULK_LANE)
