"""Close a poll, then die by SIGKILL before anything else can run — for the test
that a closing interrupted before its scrub is caught up at the next start.

Usage: python -m tests.support.close_and_die DATABASE_URL POLL_ID
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from bot.app import App
from bot.commands import build_registry
from bot.polls.closing import close_poll
from tests.support.clock import FakeClock
from tests.support.config import make_config


async def close_and_die(url: str, poll_id: int) -> None:
    app = App(make_config(url), clock=FakeClock(), registry=build_registry())
    await app.start(migrate=False)
    async with app.db.session() as session:
        assert await close_poll(session, app.services, poll_id) is not None
    # Committed; the scrub is only a task not yet run.
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    asyncio.run(close_and_die(sys.argv[1], int(sys.argv[2])))
