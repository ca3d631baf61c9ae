"""Newcomers: a welcome per chat with what is really coming up there, and a
follow-up list so that everyone who joins is contacted by an organiser.

``welcome`` writes the welcome (and is where more kinds of "coming up" plug in);
``follow_up`` keeps the list: organisers' notes, claims, reminders, the TULOs'
weekly list; ``commands`` declares /welcome and /newcomers. The tables are in
:mod:`storage.newcomers`.
"""

from bot.newcomers.commands import register

__all__ = ["register"]
