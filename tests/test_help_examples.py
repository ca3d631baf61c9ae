"""Every example /help shows works as shown (issue 17, problem 7): run in the console,
in the order /help lists them, on a fresh database, each after the ones before —
so each example builds on the earlier ones or says what it needs."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.commands import build_registry
from bot.registry import Command
from bot.text import Rich
from bot.types import Event, EventResult
from tests.support.clock import FakeClock
from tests.support.config import make_config
from tests.support.console import ConsoleSession

# What an example says it needs, done first (its /help says so: "The person must
# have sent me a message first").
# A line "press LABEL" presses the newest button so labelled (dropping out of a rota
# needs a sign-up first: its date, then its slot).
NEEDS = {
    '/grant "Sam Jones" organiser': (":user Sam Jones", "/whoami", ":user alice"),
    "/rota drop 1 Sat": ("press Sat 7 Mar", "press Driver 0/2"),
}
_BUTTON = r"\[(\d+)\] {}"


def examples() -> Iterator[str]:
    """Each example in the order /help shows them: a command's own, then its
    subcommands'."""

    def of(command: Command) -> Iterator[str]:
        if command.example:
            yield command.example
        for sub in command.subcommands:
            if sub.example and sub.example != command.example:
                yield sub.example

    for command in build_registry():
        yield from of(command)


async def test_every_help_example_works_as_shown(sqlite_url: str) -> None:
    async with ConsoleSession(make_config(sqlite_url), clock=FakeClock()) as bot:
        refused: list[str] = []
        refuse = bot.app.core._refuse

        async def noting(event: Event, text: Rich) -> EventResult:
            refused.append(str(text))
            return await refuse(event, text)

        bot.app.core._refuse = noting  # type: ignore[method-assign]
        failures = []
        for example in examples():
            for need in NEEDS.get(example, ()):
                label = need.removeprefix("press ")
                if label != need:
                    shown = re.findall(_BUTTON.format(re.escape(label)), bot.output.getvalue())
                    need = f":press {shown[-1]}"
                await bot.say(need)
            before = len(refused)
            out = await bot.say(example)
            if len(refused) > before or "went wrong" in out:
                failures.append(f"{example}\n    → {' '.join(refused[before:]) or out}")
        assert not failures, "\n".join(failures)
    grant = build_registry().get("grant")
    assert grant is not None and "must have sent me a message first" in grant.details
