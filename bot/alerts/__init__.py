"""Disputes, ballots, strikes and picket-line alerts, announced to many chats.

* :mod:`.disputes`, :mod:`.ballots`, :mod:`.strikes`, :mod:`.pickets` — the commands;
* :mod:`.broadcast` — one announcement to many chats: targeting, preview and
  confirm, copies, the live delivery receipt, corrections, cancels and the audit;
* :mod:`.mandate` with :mod:`.ballot_rules` — the ballot law, as dated data;
* :mod:`.digest` and :mod:`.welcome` — the weekly digest, and new members;
* :mod:`.upcoming`, :mod:`.render` — shared pieces (dates are read by :mod:`bot.dates`).

Other features use the announcements' preview and confirm through the names below
(polls hold a poll for many chats as a broadcast is held), never a module of ours.
"""

from __future__ import annotations

from bot.alerts import ballots, broadcast, digest, disputes, pickets, strikes, welcome
from bot.alerts.broadcast import Subject, hold, post_held_with, target_text, wake_after_commit
from bot.registry import Registry

__all__ = [
    "Subject",
    "hold",
    "post_held_with",
    "register",
    "target_text",
    "wake_after_commit",
]


def register(registry: Registry) -> None:
    for module in (disputes, ballots, strikes, pickets, broadcast, digest, welcome):
        module.register(registry)
