"""Disputes, ballots, strikes and picket-line alerts, announced to many chats.

* :mod:`.disputes`, :mod:`.ballots`, :mod:`.strikes`, :mod:`.pickets` — the commands;
* :mod:`.alert` — ``/alert``, a plain announcement, and who may change what the
  alerts announce (the announcing itself is :mod:`bot.copies`');
* :mod:`.mandate` with :mod:`.ballot_rules` — the ballot law, as dated data;
* :mod:`.digest` — the weekly digest;
* :mod:`.upcoming`, :mod:`.render` — shared pieces (dates are read by :mod:`bot.dates`);
  :func:`upcoming` is what other capabilities show of this one (the newcomers' welcome).
"""

from __future__ import annotations

from bot.alerts import alert, ballots, digest, disputes, pickets, strikes
from bot.alerts.upcoming import upcoming
from bot.registry import Registry

__all__ = ["register", "upcoming"]


def register(registry: Registry) -> None:
    for module in (disputes, ballots, strikes, pickets, alert, digest):
        module.register(registry)
