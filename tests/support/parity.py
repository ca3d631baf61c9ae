"""One script, every adapter, the same core answers.

Each platform's parity test runs :data:`SCRIPT` as an admin called Alice in one
group chat and compares the plain text of each answer with what the console gives
(:func:`console_answers`). Only answers that do not name the platform are in the
script, so the texts must be equal, line for line.
"""

from __future__ import annotations

import dataclasses

from adapters.console import ConsoleSettings
from bot.config import Config, RolesSettings
from tests.support.config import make_config
from tests.support.console import ConsoleSession

SCRIPT = [
    "/start",
    "/help",
    "/help grant",
    "/hepl",
    '/grant "Nobody Here" organiser',
    "/tag region:cannock union:unison",
    "/tags",
    "/untag union:unison",
    "/tags",
    "/tag Region",
]

NAME = "Alice"


def parity_config(url: str, admin: str) -> Config:
    """Config for a parity run: ``admin`` (e.g. "telegram:1001") is the admin."""
    return dataclasses.replace(make_config(url), roles=RolesSettings(admins=[admin]))


def plain(answer: str) -> str:
    """An answer without the console's ``[chat]`` prefix and indentation."""
    lines = answer.rstrip("\n").split("\n")
    first = lines[0].split("] ", 1)[1].removeprefix("(only you) ")
    return "\n".join([first, *(line.strip() for line in lines[1:])])


async def console_answers(url: str) -> list[str]:
    """The plain text of the console's answer to each line of :data:`SCRIPT`."""
    return [answer for answer, _ in await marked_console_answers(url)]


async def marked_console_answers(url: str) -> list[tuple[str, bool]]:
    """:func:`console_answers`, each with whether it is for the asker alone (shown
    "(only you)"): a platform whose group reads every answer sends those privately."""
    answers = []
    config = parity_config(url, f"console:{NAME.lower()}")
    config = config.with_platform("console", ConsoleSettings(user=NAME))
    async with ConsoleSession(config) as session:
        for line in SCRIPT:
            answer = await session.say(line)
            answers.append((plain(answer), "] (only you) " in answer.split("\n", 1)[0]))
    return answers
