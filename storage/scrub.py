"""Scrubbing: making deleted rows unrecoverable from the database's own files.

Deleting a row is not enough when the row is an anonymous poll's secret or an erased
person's name: a database keeps old versions of rows around. What stays, and what
removes it:

* **SQLite** runs with ``secure_delete`` (see :mod:`storage.db`), so a deleted row is
  overwritten with zeros in the database file; but the write-ahead log
  (``organise.db-wal``) still holds every page as it was written, secret included,
  until the log is checkpointed *and truncated* — ``PRAGMA wal_checkpoint(TRUNCATE)``.
* **PostgreSQL** keeps an updated or deleted row's old version on its page until
  VACUUM; and plain VACUUM only marks the space free — the bytes stay until
  overwritten (tried: a deleted row's text is still in the relation file after
  ``VACUUM; CHECKPOINT``). ``VACUUM FULL`` writes each table afresh into a new file
  and truncates the old one, so only live rows remain — once no older transaction
  can still see the deleted ones (:func:`_vacuum_full` waits for that). It holds an
  exclusive lock on the table while it runs, which is why only the few affected
  tables are named. The write-ahead log (``pg_wal``) and any backups keep the old
  rows until they are recycled or expire: the README says so.

A transaction that deletes such rows calls :func:`scrub_after_commit`: it records the
tables owed a scrub *in the same transaction* (so a crash between the commit and the
scrub is caught up at the next start, :meth:`Scrubber.catch_up`) and wakes the
:class:`Scrubber` once the commit is done.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, delete, event, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import NO_ID_REUSE, Base, BigId, UTCDateTime

if TYPE_CHECKING:
    from storage.db import Database

log = logging.getLogger(__name__)

# How long a PostgreSQL scrub waits for older transactions to end, and how often it
# looks (pg_stat_activity has nothing to wait on). A scrub still blocked after that
# stays owed: it runs again at the next scrub or start.
OLDER_WAIT_SECONDS = 60.0
OLDER_POLL_SECONDS = 0.05


class ScrubOwed(Base):
    """Tables whose deleted rows must still be scrubbed from the files."""

    __tablename__ = "scrubs_owed"
    __table_args__ = (NO_ID_REUSE,)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tables: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


async def scrub_after_commit(
    session: AsyncSession, db: Database, tables: Iterable[str], now: datetime
) -> None:
    """Owe a scrub of ``tables``, and start it once this transaction has committed
    (a rolled-back transaction deleted nothing, and its note of what is owed goes
    with it)."""
    session.add(ScrubOwed(tables=",".join(sorted(set(tables))), at=now))
    await session.flush()

    def committed(_session: Session) -> None:
        db.scrubber.wake()

    event.listen(session.sync_session, "after_commit", committed, once=True)


class Scrubber:
    """Runs owed scrubs in the background, one at a time; a wake-up during a run
    makes it run again, so nothing committed meanwhile is missed."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def wake(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run(), name="scrub")

    async def idle(self) -> None:
        """Wait until every scrub asked for so far has run (tests, and stopping)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def catch_up(self) -> None:
        """At start: what a crash left owed, and on SQLite always the log (a closing
        may have committed just before the process died)."""
        await self._scrub_owed(always=True)

    async def _run(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            try:
                await self._scrub_owed(always=False)
            except Exception:  # logged; still owed, so the next run or start retries
                log.exception("scrubbing deleted rows failed")

    async def _scrub_owed(self, *, always: bool) -> None:
        async with self.db.session() as session:
            owed = list(await session.execute(select(ScrubOwed.id, ScrubOwed.tables)))
        if not owed and not always:
            return
        tables = sorted({t for _, names in owed for t in names.split(",") if t})
        if not await scrub(self.db, tables):
            return
        if owed:
            async with self.db.session() as session:
                await session.execute(
                    delete(ScrubOwed).where(ScrubOwed.id.in_([row_id for row_id, _ in owed]))
                )


async def scrub(db: Database, tables: Iterable[str]) -> bool:
    """Remove deleted rows of ``tables`` from the files; ``False`` if it could not
    be done now (logged; try again later)."""
    if db.is_sqlite:
        async with db.engine.connect() as connection:
            result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = result.one()[0]
        if busy:
            log.warning("the SQLite log could not be emptied now (another reader): later")
        return not busy
    names = sorted(set(tables))
    if not names:
        return True
    preparer = db.engine.dialect.identifier_preparer
    quoted = ", ".join(preparer.quote(name) for name in names)
    async with db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        return await _vacuum_full(autocommit, quoted)


# Transactions anywhere on the server that started before a moment (by transaction
# id) or hold a snapshot from before it, and prepared transactions and replication
# slots holding it back. VACUUM FULL keeps every row version the oldest of them
# might still see ("dead row versions cannot be removed yet") — tried: the
# transactions of other databases on the same server counted too.
_OLDER = """
SELECT (SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()
          AND (age(backend_xmin) > age(CAST($1 AS xid)) OR age(backend_xid) > age(CAST($1 AS xid))))
     + (SELECT count(*) FROM pg_prepared_xacts WHERE age(transaction) > age(CAST($1 AS xid)))
     + (SELECT count(*) FROM pg_replication_slots WHERE age(xmin) > age(CAST($1 AS xid)))
"""
_KEPT = re.compile(r"^(\d+) dead row versions cannot be removed yet", re.MULTILINE)


async def _vacuum_full(connection: AsyncConnection, tables: str) -> bool:
    """``VACUUM FULL`` once no older transaction can see the deleted rows, checked
    by VACUUM's own report; ``False`` if they could not all be removed within
    :data:`OLDER_WAIT_SECONDS`."""
    now = (await connection.exec_driver_sql("SELECT CAST(pg_current_xact_id() AS xid)")).scalar()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + OLDER_WAIT_SECONDS
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None  # an open asyncpg connection
    details: list[str] = []

    def listen(_connection: object, message: Any) -> None:
        details.append(str(getattr(message, "detail", "") or ""))

    driver.add_log_listener(listen)
    try:
        while True:
            older = (await connection.exec_driver_sql(_OLDER, (now,))).scalar()
            if not older:
                details.clear()
                await connection.exec_driver_sql(f"VACUUM (FULL, VERBOSE) {tables}")
                # The report is in the server's language; unread, the wait above stands.
                if not any(int(n) for d in details for n in _KEPT.findall(d)):
                    return True
            if loop.time() > deadline:
                log.warning("deleted rows are still visible to an older transaction: later")
                return False
            await asyncio.sleep(OLDER_POLL_SECONDS)
    finally:
        driver.remove_log_listener(listen)
