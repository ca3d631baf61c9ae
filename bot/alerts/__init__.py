"""Disputes, ballots, strikes and picket-line alerts, announced to many chats.

* :mod:`.disputes`, :mod:`.ballots`, :mod:`.strikes`, :mod:`.pickets` — the commands;
* :mod:`.alert` — ``/alert``, a plain announcement, and who may change what the
  alerts announce (the announcing itself is :mod:`bot.copies`');
* :mod:`.mandate` with :mod:`.ballot_rules` — the ballot law, as dated data;
* :mod:`.digest` and :mod:`.welcome` — the weekly digest, and new members;
* :mod:`.upcoming`, :mod:`.render`, :mod:`.dates` — shared pieces.
"""

from __future__ import annotations

from bot.alerts import alert, ballots, digest, disputes, pickets, strikes, welcome
from bot.registry import Registry


def register(registry: Registry) -> None:
    for module in (disputes, ballots, strikes, pickets, alert, digest, welcome):
        module.register(registry)
