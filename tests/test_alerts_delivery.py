"""Announcements through the outbox, on SQLite and PostgreSQL: the live receipt,
failures by name, a sender killed mid-broadcast, and the schema."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, insert, select

from bot.copies.announce import COPIES_AT_ONCE
from bot.delivery import Permanent
from bot.scheduler import Timer
from bot.types import Op
from storage.copies import ANNOUNCED, Copy, progress
from storage.db import Database
from storage.models import Base, Chat, ChatTag, OutboxRow
from tests.support.alerts_worker import (
    PLATFORM,
    AlertsConsole,
    Record,
    TestPlatform,
    alerts_config,
)
from tests.support.clock import FakeClock

ALERTS_TABLES = (
    "disputes",
    "ballots",
    "strikes",
    "pickets",
    "picket_pledges",
    "picket_reminders",
    "broadcasts",
    "copies",
    "alert_audit",
    "digest_settings",
    "digest_claims",
)


async def tagged_test_chats(database: Database, clock: FakeClock, count: int) -> None:
    """Chats -1 … -count on the "test" platform, all tagged region:x."""
    rows = [
        {"platform": PLATFORM, "platform_chat_id": f"-{n}", "title": f"chat {n}", "kind": "group"}
        for n in range(1, count + 1)
    ]
    async with database.session() as session:
        ids = await session.scalars(
            insert(Chat).returning(Chat.id, sort_by_parameter_order=True),
            [
                {**row, "active": True, "approved": True, "inactive_reason": ""}
                | {"created_at": clock.now()}
                for row in rows
            ],
        )
        await session.execute(insert(ChatTag), [{"chat_id": i, "tag": "region:x"} for i in ids])


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    async with asyncio.timeout(seconds):
        while not await condition():  # noqa: ASYNC110 - the database changes, not an event
            await asyncio.sleep(0.02)


async def test_the_receipt_counts_as_copies_go_then_names_the_failures(
    database: Database, database_url: str, clock: FakeClock
) -> None:
    platform = TestPlatform("t")
    platform.fail("-2", Permanent("Forbidden: bot was kicked from the group chat", chat_gone=True))
    platform.fail("-3", Permanent("Bad Request: not enough rights to send text messages"))
    platform.held = {"-4", "-5"}
    config = alerts_config(database_url, receipt_edit_seconds=2.0)
    async with AlertsConsole(config, clock, platform) as bot:
        await tagged_test_chats(bot.app.db, clock, 5)
        await bot.console.feed("/alert send region:x Picket at the depot, 7am")
        console = bot.app.senders["console"]
        await console.idle()

        async def three_done() -> bool:
            async with bot.app.db.session() as session:
                done = await progress(session, ANNOUNCED, 1, failures=False)
            return done.sent + done.failed == 3

        await until(three_done)
        out = bot.output.getvalue()
        assert "Alert #1 to 5 chats · region:x\n" in out and "Delivered 0/5" in out
        # Within the throttle nothing is edited; its timer brings the count up to date.
        bot.clock.advance(seconds=2)
        await bot.app.timer.run_due()
        await console.idle()
        assert "Delivered 1/5 · 2 failed" in bot.output.getvalue()

        platform.release()
        assert "Done" not in await bot.say()  # not within 2 s of the last edit, either
        out = await bot.tick(seconds=2)
        assert "Done. Delivered 3/5 · 2 failed." in out
        assert "• chat 2 (test): Forbidden: bot was kicked from the group chat" in out
        assert "• chat 3 (test): Bad Request: not enough rights to send text messages" in out
        receipts = re.findall(r"\(message #(\d+) edited\) Alert #1", bot.output.getvalue())
        assert len(receipts) == 2 and len(set(receipts)) == 1  # one message, edited in place

        out = await bot.say("/alert status 1")
        assert "Done. Delivered 3/5 · 2 failed." in out and "• chat 2 (test)" in out
        async with bot.app.db.session() as session:
            gone = await session.scalar(select(Chat).where(Chat.platform_chat_id == "-2"))
        assert gone is not None and not gone.active


async def test_a_sender_killed_mid_broadcast_loses_no_chat(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    """500 chats; the sending process is SIGKILLed part-way; after a restart every
    chat has the alert, duplicates are no more than the sends in flight at the kill,
    and a correction (made while nothing ran) and a cancel (after the restart)
    reach every copy, whichever process sent it."""
    clock = FakeClock(datetime.now(UTC))
    platform = TestPlatform("r")
    config = alerts_config(database_url)
    async with AlertsConsole(config, clock, platform) as bot:
        paused = bot.app.senders.pop(PLATFORM)  # this process sends no "test" rows yet
        await paused.stop()
        await tagged_test_chats(bot.app.db, clock, 500)
        await bot.say('/dispute add UNISON Depot "Pay" region:x')
        out = await bot.say('/picket add 1 Depot "B69 4JE" tomorrow 06:00-10:00')
        assert "It goes to 500 chats matching region:x. Send it?" in out
        await bot.say(":press 1")

        log = tmp_path / "delivered.log"
        log.touch()
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.support.alerts_worker", database_url, str(log)
        )
        try:
            async with asyncio.timeout(60):
                while len(log.read_text().splitlines()) < 100:  # noqa: ASYNC110 - another process
                    await asyncio.sleep(0.01)
        finally:
            worker.send_signal(signal.SIGKILL)
            await worker.wait()
        before = [Record.parse(line) for line in log.read_text().splitlines()]
        assert 100 <= len(before) < 500, "the worker should die mid-broadcast"
        async with bot.app.db.session() as session:
            recorded = set(
                await session.scalars(select(OutboxRow.id).where(OutboxRow.status == "sent"))
            )
        in_flight = [r for r in before if int(r.nonce.removeprefix("ob")) not in recorded]

        out = await bot.say("/picket correct 1 --hours 07:00-11:00")
        assert "Picket #1 corrected: updating its copies in 500 chats." in out

        # Restart: the killed worker's leases have run out.
        clock.current = datetime.now(UTC) + timedelta(seconds=config.outbox.lease_seconds + 5)
        bot.app.senders[PLATFORM] = paused
        paused.start()
        await drain(bot)
        sends = [r for r in before + platform.records if r.op is Op.SEND]
        assert {r.chat_id for r in sends} == {f"-{n}" for n in range(1, 501)}
        duplicates = len(sends) - 500
        # Delivered and not recorded at the kill: never more than the sends in flight.
        assert duplicates <= len(in_flight) <= platform.pacing.max_in_flight

        async with bot.app.db.session() as session:
            shown = set(
                await session.scalars(
                    select(OutboxRow.message_ids).join(
                        Copy, Copy.dedupe_key == OutboxRow.dedupe_key
                    )
                )
            )
        assert len(shown) == 500
        assert any(i.startswith("w") for i in shown) and any(i.startswith("r") for i in shown)
        corrected = {r.message_id for r in platform.records if "07:00–11:00" in r.text}
        assert shown <= corrected

        out = await bot.say("/picket cancel 1")
        assert "marking its copies in 500 chats CANCELLED" in out
        await drain(bot)
        cancelled = {r.message_id for r in platform.records if r.text.startswith("CANCELLED")}
        assert shown <= cancelled
        await bot.tick(seconds=1)  # the receipt's timer (its edits are throttled)
        assert "Done. Delivered 500/500." in bot.output.getvalue()


async def test_copies_not_yet_written_at_a_crash_are_written_after_the_restart(
    database: Database, database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large announcement writes its copies a chunk per transaction; if the process
    dies before the last chunk, the next start writes the rest."""
    platform = TestPlatform("t")
    config = alerts_config(database_url)
    chats = COPIES_AT_ONCE + 30
    async with AlertsConsole(config, clock, platform) as bot:
        await tagged_test_chats(bot.app.db, clock, chats)
        with monkeypatch.context() as crashed:  # the rest is never written: as if killed
            crashed.setattr(Timer, "soon", lambda *_args: None)
            out = await bot.say("/alert send region:x Picket at the depot, 7am")
            out += await bot.say(":press 1")
        assert "Sending to 130 chats" in out
        async with bot.app.db.session() as session:
            written = await session.scalar(
                select(func.count())
                .select_from(Copy)
                .join(OutboxRow, OutboxRow.dedupe_key == Copy.dedupe_key)
            )
            assert written == COPIES_AT_ONCE
            assert "Delivered" in out and "failed" not in out  # the rest is to come, not failed
    async with AlertsConsole(config, clock, platform) as bot:  # the restart
        await until(lambda: _all_sent(bot, chats))
        assert {r.chat_id for r in platform.records} == {f"-{n}" for n in range(1, chats + 1)}
        out = await bot.tick(seconds=5)
        assert f"Done. Delivered {chats}/{chats}." in out


async def _all_sent(bot: AlertsConsole, count: int) -> bool:
    sent = await bot.scalar(
        select(func.count()).where(OutboxRow.status == "sent", OutboxRow.platform == PLATFORM)
    )
    return bool(sent >= count)


async def drain(bot: AlertsConsole) -> None:
    """Send everything, moving the clock on for edits that wait for their message."""
    for _ in range(20):
        await bot.say()
        async with bot.app.db.session() as session:
            waiting = await session.scalar(
                select(func.count()).where(OutboxRow.status.in_(["pending", "sending"]))
            )
        if not waiting:
            return
        bot.clock.advance(seconds=3)
        bot.app.outbox.notify(bot.app.senders)
    raise AssertionError("the outbox did not drain")


async def test_the_migration_builds_exactly_the_models(database: Database) -> None:
    def differences(connection: Connection) -> list[str]:
        changes = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        return [str(change) for change in changes]

    async with database.engine.connect() as connection:
        changes = await connection.run_sync(differences)
    mine = [c for c in changes if any(f"'{table}'" in c for table in ALERTS_TABLES)]
    assert mine == []
