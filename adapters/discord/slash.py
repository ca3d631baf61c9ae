"""Slash commands generated from the registry, written back as typed text.

Each registry :class:`~bot.registry.Command` becomes one Discord application
command (a :class:`~discord.app_commands.Group` when it has subcommands). Their
callbacks are built here, one signature per command, because discord.py reads a
command's options from its callback's signature. An invocation is turned back into
the text a person would type (``poll "Q?" A B --multi``) so the core parses one
syntax only.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import discord
from discord import app_commands

from bot.registry import Command, Kind, Param, Role

DESCRIPTION_LIMIT = 100
# Discord has no variadic options: a repeatable argument (poll answers) gets this
# many numbered options, the first one required when the argument is.
REPEAT_SLOTS = 10
OPTION_LIMIT = 25

# The core's syntax has no escape character, so a double quote inside a value
# cannot survive the trip; it becomes an apostrophe.
_DOUBLE_QUOTES = str.maketrans(dict.fromkeys('"“”„«»', "'"))

SlashHandler = Callable[[discord.Interaction, str, str, bool], Awaitable[None]]
"""``(interaction, command name, typed text, private)``."""


@dataclass(frozen=True, slots=True)
class Slot:
    """One Discord option: ``key`` names it in the generated callback, ``name`` on Discord."""

    key: str
    name: str
    param: Param
    required: bool

    @property
    def annotation(self) -> Any:
        if self.param.flag:
            return bool
        if self.param.kind is Kind.INT:
            return int
        if self.param.kind is Kind.CHOICE and self.param.choices:
            return Literal[self.param.choices]
        return str


def describe(text: str) -> str:
    """Discord wants 1 to 100 characters."""
    text = " ".join(text.split()) or "…"
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def slots(command: Command) -> list[Slot]:
    out: list[Slot] = []
    variadic = command.positionals[-1] if command.positionals else None
    for param in command.params:
        if param is variadic and param.repeat:
            room = max(1, min(REPEAT_SLOTS, OPTION_LIMIT - len(command.params) + 1))
            for number in range(1, room + 1):
                required = param.required and number == 1
                name = f"{param.name}{number}".lower()
                out.append(Slot(f"p{len(out)}", name, param, required))
        else:
            required = param.required and not param.option
            out.append(Slot(f"p{len(out)}", param.name.lower(), param, required))
    return out


def quote(value: str) -> str:
    value = value.translate(_DOUBLE_QUOTES)
    return f'"{value}"' if not value or any(c.isspace() for c in value) else value


def to_text(command_slots: Sequence[Slot], values: Mapping[str, Any]) -> str:
    """The options as typed text: positionals in order, then ``--options``."""
    words: list[str] = []
    for slot in command_slots:
        value = values.get(slot.key)
        if value is None or value is False:
            continue
        param = slot.param
        if param.flag:
            words.append(f"--{param.name}")
        elif param.option:
            words += [f"--{param.name}", quote(str(value))]
        elif param.kind is Kind.REST:
            words.append(str(value))
        else:
            words.append(quote(str(value)))
    return " ".join(words)


AppCommand = app_commands.Command[Any, ..., None]


# Who sees a command in a server's slash menu at first (Discord's
# ``default_member_permissions``): organisers' commands are shown to members with
# *Manage Server* — who are organisers already — and a server's admins can show them
# to other roles under Server Settings → Integrations. It only hides: the core
# checks everyone's role on every command.
PRIVILEGED = discord.Permissions(manage_guild=True)


def member_permissions(command: Command) -> discord.Permissions | None:
    """``None`` (everyone) unless no form of the command is a member's."""
    return PRIVILEGED if command.lowest_role > Role.MEMBER else None


def build(command: Command, on_slash: SlashHandler) -> AppCommand | app_commands.Group:
    if not command.subcommands:
        made = _command(command, command.name, "", command.private, on_slash, None)
        made.default_permissions = member_permissions(command)
        return made
    group = app_commands.Group(
        name=command.name,
        description=describe(command.summary),
        default_permissions=member_permissions(command),
    )
    for sub in command.subcommands:
        private = sub.private or command.private
        group.add_command(_command(sub, command.name, sub.name, private, on_slash, group))
    return group


def _command(
    command: Command,
    name: str,
    prefix: str,
    private: bool,
    on_slash: SlashHandler,
    parent: app_commands.Group | None,
) -> AppCommand:
    return app_commands.Command(
        name=command.name,
        description=describe(command.summary),
        callback=_callback(slots(command), name, prefix, private, on_slash),
        parent=parent,
    )


def _callback(
    command_slots: list[Slot], name: str, prefix: str, private: bool, on_slash: SlashHandler
) -> Callable[..., Coroutine[Any, Any, None]]:
    """A callback whose signature declares the command's options.

    discord.py honours ``__signature__`` (it calls :func:`inspect.signature`), and its
    public ``describe``/``rename`` decorators give each option its text and its
    Discord name; the Python names are ``p0``, ``p1``… so no option name can clash
    with a keyword.
    """

    async def invoke(interaction: discord.Interaction, **values: Any) -> None:
        text = " ".join(part for part in (prefix, to_text(command_slots, values)) if part)
        await on_slash(interaction, name, text, private)

    interaction = inspect.Parameter(
        "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
    )
    options = [
        inspect.Parameter(
            slot.key,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=slot.annotation,
            default=inspect.Parameter.empty if slot.required else None,
        )
        for slot in command_slots
    ]
    invoke.__signature__ = inspect.Signature([interaction, *options])  # type: ignore[attr-defined]
    app_commands.describe(**{s.key: describe(s.param.description) for s in command_slots})(invoke)
    app_commands.rename(**{s.key: s.name for s in command_slots})(invoke)
    return invoke
