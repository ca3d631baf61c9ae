"""A sender in its own process, for the test that kills one with SIGKILL.

Usage: python -m tests.support.outbox_worker DATABASE_URL LOG_FILE [SECONDS]
Sends every due row of platform "test", appending each delivery's nonce to LOG_FILE
(flushed per line, so the log shows exactly what had reached the "platform"); each
delivery takes SECONDS (default 0.01; 0: as fast as the sender goes).
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


async def serve(url: str, log: TextIO, delay: float) -> None:
    transport = RecordingTransport()
    transport.delay = delay
    transport.on_deliver = lambda delivery: log.write(delivery.nonce + "\n")
    sender = Sender(
        Database(url), Outbox(SystemClock()), transport, OutboxSettings(poll_seconds=0.05)
    )
    sender.start()
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    with open(sys.argv[2], "a", buffering=1) as log_file:  # line-buffered: one write per line
        asyncio.run(serve(sys.argv[1], log_file, float(sys.argv[3]) if sys.argv[3:] else 0.01))
