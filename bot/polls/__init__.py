"""Quick polls: one poll across many chats and both platforms, one combined tally.

``commands`` declares /poll, /yesno and /polls; ``votes`` records presses in
batches; ``copies`` keeps every posted copy's chart live; ``closing`` closes polls
on time, restart-safe; ``render`` holds every word; ``tally`` counts; ``deadline``
reads ``--closes``. The tables are in :mod:`storage.polls`.
"""

from bot.polls.commands import register

__all__ = ["register"]
