"""The Discord adapter against a fake Discord: real discord.py, fake edge.

Gateway payloads go through discord.py's own parsers and REST calls reach a local
server, so these tests exercise the library's models, retries and error types —
only the network is fake. This is what every test here shares; the fixtures
``fake`` and ``make`` are in conftest.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from adapters.discord import DiscordAdapter
from bot.registry import Command, Kind, Param
from bot.text import Rich, rich
from bot.types import Attachment, CommandIn, Content, Delivery, Op
from tests.fakes.discord import FakeDiscord, FakeGuild, Gateway, Person, Recorder

REGISTRY = (
    Command(
        "poll",
        "Ask the branch a question and count the answers. " * 4,
        params=(
            Param("question", "What to ask"),
            Param("answer", "A possible answer", repeat=True),
            Param("multi", "Allow several answers", option=True, flag=True),
            Param("hours", "How long it stays open", kind=Kind.INT, option=True),
        ),
    ),
    Command(
        "meeting",
        "Plan meetings",
        subcommands=(
            Command(
                "add",
                "Add a meeting",
                params=(Param("when", "When"), Param("place", "Where", kind=Kind.REST)),
            ),
            Command("list", "List meetings"),
        ),
    ),
    Command(
        "alert",
        "Send an alert",
        params=(Param("level", "How urgent", kind=Kind.CHOICE, choices=("low", "high")),),
    ),
    Command("whoami", "Who the bot thinks you are", private=True),
    Command("help", "Help", params=(Param("topic", "A command", kind=Kind.WORD, required=False),)),
)

CALENDAR = Attachment(
    "gc-meeting.ics", b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "text/calendar"
)

GUILD_ADMIN = Person(700000000000000001, "Ada Organiser", roles=("Organiser", "Admin"))
MEMBER = Person(700000000000000002, "Bob Member")

Make = Callable[..., Awaitable[tuple[DiscordAdapter, Gateway]]]


async def whoami(make: Make, fake: FakeDiscord, **options: Any) -> tuple[DiscordAdapter, CommandIn]:
    """A started adapter and the event of a member's /whoami slash command."""
    recorder = Recorder()
    adapter, gateway = await make(recorder, **options)
    gateway.send("INTERACTION_CREATE", fake.slash(FakeGuild(), "general", MEMBER, "whoami"))
    (event,) = await recorder.wait_for(CommandIn)
    return adapter, event


def send(text: Rich | str, chat_id: int = 123, **content: Any) -> Delivery:
    body = rich(text) if isinstance(text, str) else text
    return Delivery(Op.SEND, str(chat_id), Content(body, **content), nonce="outbox-row-17")
