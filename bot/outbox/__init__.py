"""The one delivery path: every message is written down before it is sent.

* :mod:`bot.outbox.queue` — :class:`Outbox` puts rows in the ``outbox`` table
  inside the caller's transaction and wakes the senders when it commits; the
  senders' claims;
* :mod:`bot.outbox.sender` — :class:`Sender`, one per platform: the loop that
  claims, paces, delivers and records;
* :mod:`bot.outbox.policy` and :mod:`bot.outbox.pacing` — its decisions, free of
  I/O: which row goes next, how long to sleep, what becomes of a failure; each
  platform's rate limits.

The table's statements are in :mod:`storage.outbox`; the adapters' side of the
contract in :mod:`bot.delivery`.
"""

from bot.outbox.pacing import takeover_seconds
from bot.outbox.queue import Outbox
from bot.outbox.sender import Sender
from storage.outbox import Lane, Status

# The lanes by the names the features use.
REPLY_LANE = Lane.REPLY
BULK_LANE = Lane.BULK

__all__ = ["BULK_LANE", "REPLY_LANE", "Lane", "Outbox", "Sender", "Status", "takeover_seconds"]
