"""Fakes of the platforms' servers, reached by the real client libraries over loopback.

* :mod:`.telegram` — the Bot API (:mod:`.telegram.api`) and its update builders;
* :mod:`.discord` — Discord's REST API and gateway payloads, and a whole bot on it
  (:mod:`.discord.harness`);
* :mod:`.serve` — either fake in a process of its own, for benchmarks.

This package (like :mod:`tests.support`) is a harness, not tests: the benchmarks in
``bench/`` import it, and nothing in it imports a test module.
"""

# How long a test waits for background work (a call, an answer) before failing.
WAIT = 5.0
