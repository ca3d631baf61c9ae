"""The parity script on Discord, typed as ``!`` text commands and picked as slash
commands, gives the console's answers word for word (Discord's Markdown undone)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord import slash
from bot.commands import build_registry
from bot.parse import tokenize
from tests.fakes.discord import FakeDiscord
from tests.fakes.discord.harness import ALICE, running
from tests.support.parity import SCRIPT, console_answers, parity_config

MARKERS = "*_`~|"  # unescaped, these can only be formatting: user text is escaped
LINK = re.compile(r"\[((?:\\.|[^\]])*)\]\((\S+)\)")


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


def unmark(text: str) -> str:
    """Discord Markdown as the console prints it: links as ``text (url)``, formatting
    markers dropped, escapes undone, the zero-width guards against pings removed; each
    line stripped, as :func:`tests.support.parity.plain` strips the console's."""
    text = LINK.sub(lambda m: f"{m[1]} ({m[2]})", text)
    out: list[str] = []
    chars = iter(text)
    for char in chars:
        if char == "\\":
            out.append(next(chars, ""))
        elif char not in MARKERS:
            out.append(char)
    plain = "".join(out).replace("\u200b", "")
    return "\n".join(line.strip() for line in plain.split("\n"))


def as_slash(line: str) -> tuple[str, dict[str, str]]:
    """A typed line as the slash command someone would pick: the same words, each in
    its option, named as the adapter names them."""
    name, _, text = line.removeprefix("/").partition(" ")
    command = build_registry().get(name)
    if command is None:
        return name, {}  # Discord's menu can lag behind an update; the core explains
    positional = [s for s in slash.slots(command) if not s.param.option]
    return name, {s.name: word for s, word in zip(positional, tokenize(text), strict=False)}


async def test_text_and_slash_commands_answer_as_the_console_does(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    expected = await console_answers(f"sqlite+aiosqlite:///{tmp_path / 'console.db'}")
    config = parity_config(
        f"sqlite+aiosqlite:///{tmp_path / 'discord.db'}", f"discord:{ALICE.user_id}"
    )

    typed: list[str] = []
    picked: list[str] = []
    async with running(fake, config, pace=False) as bot:
        for line in SCRIPT:  # as text commands, in #general
            before = len(fake.created)
            bot.type("!" + line.removeprefix("/"), channel="general")
            await bot.posted(before + 1)
            await bot.idle()
            (answer,) = fake.texts()[before:]
            typed.append(unmark(answer))
        for line in SCRIPT:  # as slash commands, in #picket-line: a chat of its own
            before = len(fake.answers)
            name, options = as_slash(line)
            bot.slash(name, options, channel="picket-line")
            await bot.answers(before + 1)
            await bot.idle()
            (reply,) = fake.answers[before:]
            picked.append(unmark(reply.text))

    assert typed == expected
    assert picked == expected
