"""Elections between the bot processes sharing one PostgreSQL database.

Several ``organise-bot run`` processes may serve one database. Some work must be
done by exactly one of them: sending a bot token's messages (so that the
platform's rate limits, counted per token, are kept by one pacer), polling
Telegram (which allows one ``getUpdates`` per token) and firing timers. Each such
job is an :class:`Election` won by holding a PostgreSQL *session-level advisory
lock* on a dedicated connection that stays open: the lock is the database's own,
so no clock, lease table or heartbeat of ours decides who leads, and a leader that
dies loses its connection and with it the lock — another process takes over at its
next try, within ``retry_seconds``.

The same connection carries ``LISTEN``/``NOTIFY``: a process that wrote outbox rows
for a platform it does not send wakes the sender elsewhere (:meth:`notify`), instead
of the sender finding them at its next poll.

SQLite allows one serving process, which wins every election at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import make_url

from storage.db import Database

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0  # how often a follower tries to take over, and a leader checks in
NOTIFY_DELAY_SECONDS = 0.05  # wake-ups written together go out as one round trip

Callback = Callable[[], Awaitable[None]]
Listener = Callable[[str], None]


def lock_key(name: str) -> int:
    """The advisory lock's key for an election's name: 64 bits of its hash, signed
    as PostgreSQL's ``bigint``. Advisory locks are per database already."""
    digest = hashlib.sha256(f"organise-bot:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass
class Election:
    """One job for one process: ``on_elected`` starts it, ``on_deposed`` stops it
    (the lock is lost only with the connection, when the database is unreachable)."""

    name: str
    on_elected: Callback
    on_deposed: Callback
    key: int = field(init=False)
    leading: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.key = lock_key(self.name)


class Leadership:
    """This process's elections, and its ``LISTEN``/``NOTIFY`` channel."""

    def __init__(self, database: Database, *, retry_seconds: float = RETRY_SECONDS) -> None:
        self.exclusive = not database.is_sqlite  # leading means no one else does
        self._url = database.url
        self._retry_seconds = retry_seconds
        self._elections: list[Election] = []
        self._listeners: dict[str, list[Listener]] = {}
        self._connection: Any = None  # asyncpg's Connection, on PostgreSQL only
        self._task: asyncio.Task[None] | None = None
        self._try_now = asyncio.Event()
        self._to_notify: set[tuple[str, str]] = set()
        self._notifying: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one statement at a time on the connection
        self._paused = False  # stopping: no more elections, nor notifications

    def add(self, name: str, on_elected: Callback, on_deposed: Callback) -> Election:
        election = Election(name, on_elected, on_deposed)
        self._elections.append(election)
        return election

    def listen(self, channel: str, listener: Listener) -> None:
        """Call ``listener(payload)`` for each notification on ``channel``."""
        self._listeners.setdefault(channel, []).append(listener)

    async def start(self) -> None:
        """Hold the first round of elections before returning, so that a lone
        process is leading everything once started; then keep trying."""
        self._paused = False
        await self._round(first=True)
        if self.exclusive:
            self._task = asyncio.create_task(self._campaign(), name="leadership")

    async def pause(self) -> None:
        """Hold no more elections, letting a round under way finish: the jobs won
        keep their locks while the caller stops them, then calls :meth:`stop`."""
        self._paused = True
        self._try_now.set()
        if self._task is not None:
            await asyncio.wait({self._task})

    async def stop(self) -> None:
        """Stop campaigning and give up every lock, by closing the connection (the
        jobs themselves the caller has stopped first)."""
        self._paused = True
        for task in (self._task, self._notifying):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._notifying = None
        for election in self._elections:
            election.leading = False
        await self._disconnect(unlock=True)

    def notify(self, channel: str, payload: str) -> None:
        """Send ``payload`` on ``channel`` to every process listening, soon (only on
        PostgreSQL: SQLite has no one else to tell). Call it after the commit that
        the listeners should see."""
        if not self.exclusive or self._paused:
            return
        self._to_notify.add((channel, payload))
        if self._notifying is None or self._notifying.done():
            self._notifying = asyncio.create_task(self._send_notifications(), name="notify")

    # --- the campaign --------------------------------------------------------------

    async def _campaign(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._try_now.wait(), self._retry_seconds)
            self._try_now.clear()
            if self._paused:
                return
            await self._round()

    async def _round(self, *, first: bool = False) -> None:
        """Try for each election not won; check the connection is alive. A lost
        connection has lost every lock: each job stops, and the next round starts
        again on a new connection. In the ``first`` round, at start, a job that
        cannot be taken up stops the start with its error (a rejected token)."""
        if not self.exclusive:
            won = [election for election in self._elections if not election.leading]
        else:
            try:
                async with self._lock:
                    connection = await self._connect()
                    await connection.fetchval("SELECT 1")
                    won = [
                        election
                        for election in self._elections
                        if not election.leading
                        and await connection.fetchval(
                            "SELECT pg_try_advisory_lock($1)", election.key
                        )
                    ]
            except Exception as error:
                if not _is_connection_error(error):
                    raise
                await self._lost(error)
                return
        for election in won:
            await self._elected(election, first)

    async def _elected(self, election: Election, first: bool) -> None:
        log.info("this process now leads %s", election.name)
        election.leading = True
        try:
            await election.on_elected()
        except Exception:
            # Not fit to lead it (a platform refused to start): let another try.
            if not first:
                log.exception("could not take up %s; giving it up", election.name)
            election.leading = False
            await self._give_up(election)
            if first:
                raise

    async def _give_up(self, election: Election) -> None:
        if self.exclusive:
            with contextlib.suppress(Exception):
                async with self._lock:
                    await self._connection.fetchval("SELECT pg_advisory_unlock($1)", election.key)

    async def _lost(self, error: BaseException) -> None:
        log.warning("the database connection holding the elections failed: %s", error)
        await self._disconnect(unlock=False)
        for election in self._elections:
            if election.leading:
                election.leading = False
                log.warning("this process no longer leads %s", election.name)
                try:
                    await election.on_deposed()
                except Exception:
                    log.exception("stopping %s failed", election.name)

    # --- the connection --------------------------------------------------------------

    async def _connect(self) -> Any:
        if self._connection is not None and not self._connection.is_closed():
            return self._connection
        import asyncpg  # type: ignore[import-untyped]  # (no type information)

        dsn = make_url(self._url).set(drivername="postgresql")
        self._connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        for channel in self._listeners:
            await self._connection.add_listener(channel, self._heard)
        return self._connection

    async def _disconnect(self, *, unlock: bool) -> None:
        connection, self._connection = self._connection, None
        if connection is None or connection.is_closed():
            return
        try:
            if unlock:  # closing would free them too; this says so at once
                await connection.fetchval("SELECT pg_advisory_unlock_all()")
            await connection.close(timeout=5)
        except Exception:
            connection.terminate()

    def _heard(self, _connection: Any, _pid: int, channel: str, payload: str) -> None:
        for listener in self._listeners.get(channel, []):
            listener(payload)

    async def _send_notifications(self) -> None:
        await asyncio.sleep(NOTIFY_DELAY_SECONDS)
        batch, self._to_notify = self._to_notify, set()
        try:
            async with self._lock:
                connection = await self._connect()
                for channel, payload in sorted(batch):
                    await connection.execute("SELECT pg_notify($1, $2)", channel, payload)
        except Exception as error:  # the sender finds the rows at its next poll
            log.warning("could not wake the other processes: %s", error)


def _is_connection_error(error: Exception) -> bool:
    """The network's errors and asyncpg's (imported only on PostgreSQL)."""
    return isinstance(error, OSError | TimeoutError) or type(error).__module__.startswith("asyncpg")
