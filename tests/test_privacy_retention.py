"""Retention: what is past its time is listed by a dry run and purged by the daily
run, on SQLite and PostgreSQL; the `organise-bot db purge --dry-run` command."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.retention import run_purge
from storage.alerts import PicketPledge
from storage.copies import AlertAudit
from storage.db import Database
from storage.meetings import MeetingRsvp
from storage.models import OutboxRow
from storage.polls import PollBallot
from storage.retention import EMPTIED
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession
from tests.test_cli import run


def button(out: str, label: str) -> str:
    """The console's number for the button labelled ``label`` in ``out``."""
    (number,) = re.findall(rf"\[(\d+)\] {re.escape(label)}", out)
    return number


PICKET = '/picket add 1 "Lye Depot" 52.4589,-2.1406 tomorrow 06:00-10:00'


@pytest.fixture
async def bot(database: Database, clock: FakeClock) -> AsyncIterator[ConsoleSession]:
    """sam votes in a named poll that closes, says he's going to a meeting and will
    be at a picket; alice announces (an audit row)."""
    async with ConsoleSession(make_config(database.url), clock) as session:
        await session.say(
            "/tag region:west-midlands",
            '/dispute add UNISON "Sandwell Council" "Pay" region:west-midlands',
            "/alert send region:west-midlands Rally at noon",
        )
        poll = await session.say('/yesno "Strike?"')
        meeting = await session.say('/meeting add "GC" "Thu 19:00" "Hall"')
        picket = await session.say(PICKET)
        await session.say(
            ":user sam",
            f":press {button(poll, 'A. Yes')}",
            f":press {button(meeting, '✅ Going')}",
            f":press {button(picket, '✋ I')}",
            ":user alice",
            "/poll close 1",
        )
        yield session


async def count(db: Database, model: type, *where: object) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_nothing_goes_before_its_time_and_everything_after(
    bot: ConsoleSession, clock: FakeClock
) -> None:
    db, settings = bot.app.db, bot.app.config.retention
    assert await count(db, MeetingRsvp) == 1 and await count(db, PicketPledge) == 1
    assert not any((await run_purge(db, settings, clock.now(), dry_run=True)).values())
    clock.advance(days=400)
    planned = await run_purge(db, settings, clock.now(), dry_run=True)
    assert planned["delivered messages emptied"] > 0
    assert planned["named votes of closed polls unlinked"] == 1
    assert planned["audit rows"] >= 1
    assert await count(db, PollBallot, PollBallot.person_id.is_not(None)) == 1  # dry run
    await bot.app.timer.run_due()  # the daily purge
    assert not any((await run_purge(db, settings, clock.now(), dry_run=True)).values())
    old = OutboxRow.created_at < clock.now() - timedelta(days=30)
    async with db.session() as session:
        payloads = list(await session.scalars(select(OutboxRow.payload).where(old)))
    assert payloads and all(payload == EMPTIED for payload in payloads)
    assert await count(db, PollBallot, PollBallot.person_id.is_not(None)) == 0
    assert await count(db, PollBallot) == 1  # the vote still counts
    assert await count(db, AlertAudit) == 0
    assert await count(db, MeetingRsvp) == 0 and await count(db, PicketPledge) == 0
    out = await bot.say(":user alice", "/poll results 1")
    assert "1 person has voted." in out and "sam" not in out


def test_the_purge_command_lists_what_would_go(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    result = run(["db", "purge", "--dry-run"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "would purge (dry run):" in result.stdout
    assert "0 delivered messages emptied" in result.stdout
    assert "0 audit rows" in result.stdout
