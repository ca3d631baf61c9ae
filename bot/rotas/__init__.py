"""Volunteer rotas: a repeating shift with slots ("Driver:2, Packing:4"), posted to
many chats and platforms as one rota with one sign-up list.

``commands`` declares /rota; ``signups`` handles the sign-up buttons and dropping
out (waiting lists promoted in order); ``cards`` draws the rota's message and keeps
every copy current; ``reminders`` sends reminders and "help wanted" notes on time,
restart-safe; ``gaps`` finds dates with places free (for /rota and the newcomers'
welcome, :func:`help_wanted`; for the weekly digest, :func:`week_lines`); ``slots``
reads what organisers type; ``render`` holds every word. The tables are in :mod:`storage.rotas`.
"""

from bot.rotas.commands import register
from bot.rotas.gaps import help_wanted, week_lines

__all__ = ["help_wanted", "register", "week_lines"]
