"""A sender in its own process, for the test that kills one with SIGKILL.

Usage: python -m tests.support.outbox_worker DATABASE_URL LOG_FILE
Sends every due row of platform "test", appending each delivery's nonce to LOG_FILE
(flushed per line, so the log shows exactly what had reached the "platform").
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.clock import SystemClock
from bot.config import OutboxSettings
from bot.outbox import Outbox, Sender
from storage.db import Database
from tests.support.transport import RecordingTransport


async def serve(url: str, log: TextIO) -> None:
    transport = RecordingTransport()
    transport.delay = 0.01
    transport.on_deliver = lambda delivery: log.write(delivery.nonce + "\n")
    sender = Sender(
        Database(url), Outbox(SystemClock()), transport, OutboxSettings(poll_seconds=0.05)
    )
    sender.start()
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    with open(sys.argv[2], "a", buffering=1) as log_file:  # line-buffered: one write per line
        asyncio.run(serve(sys.argv[1], log_file))
