"""/start and /help — generated from the registry, so help is never out of date."""

from __future__ import annotations

from bot.context import Context, UserError
from bot.network import limits
from bot.parse import suggest
from bot.registry import Command, Kind, Param, Registry, Role
from bot.text import Rich, bold, code, italic, join, rich
from bot.types import Outgoing


async def start(ctx: Context) -> list[Outgoing]:
    return [
        ctx.reply(
            join(
                [
                    rich("Hello ", bold(ctx.person.display_name), "!"),
                    rich(
                        f"I'm {ctx.config.bot.name}: I carry the branch's work between "
                        "meetings — picket-line alerts, strike and ballot news, meeting "
                        "reminders and quick polls."
                    ),
                    rich("Send /help to see the commands."),
                ]
            )
        )
    ]


async def help_command(ctx: Context) -> list[Outgoing]:
    wanted = ctx.args.get("command", "").lstrip("/").lower()
    if wanted:
        command = ctx.registry.get(wanted)
        if command is None:
            hint = suggest(wanted, [c.name for c in ctx.registry])
            raise UserError(f"There is no /{wanted}." + (f" Did you mean /{hint}?" if hint else ""))
        return [ctx.reply(describe(command))]
    limited = await limits(ctx)
    lines: list[Rich] = [rich(bold("What I can do")), rich("")]
    for command in ctx.registry:
        if command.role <= ctx.role and (limited is None or command.name in limited[0]):
            lines.append(rich(f"/{command.name} — {command.summary}"))
    lines += [rich(""), rich("Send ", code("/help <command>"), " for details and an example.")]
    if limited is not None:
        lines += [rich(""), limited[1]]
    return [ctx.reply(join(lines))]


def describe(command: Command) -> Rich:
    lines: list[Rich] = [rich(bold(f"/{command.name}"), f" — {command.summary}")]
    lines.append(rich("Usage: ", code(command.usage())))
    for sub in command.subcommands:
        lines.append(
            rich("• ", code(sub.usage().replace("/", f"/{command.name} ", 1)), f" — {sub.summary}")
        )
    for param in command.params:
        name = f"--{param.name}" if param.option else param.name
        lines.append(rich(f"  {name}: {param.description}"))
    if command.details:
        lines.append(rich(command.details))
    if command.example:
        lines.append(rich("Example: ", code(command.example)))
    if command.role > Role.MEMBER:
        lines.append(rich(italic(f"Needs the {command.role.shown} role.")))
    return join(lines)


def register(registry: Registry) -> None:
    registry.add(
        Command(
            "start",
            "Say hello and see what the bot is for",
            start,
            # A start link (the button under a "private answer" hint) sends
            # "/start <payload>"; the payload only says where the person came from.
            (
                Param(
                    "from",
                    "where you came from (a start link fills it in)",
                    Kind.WORD,
                    required=False,
                ),
            ),
        )
    )
    registry.add(
        Command(
            "help",
            "List the commands, or explain one",
            help_command,
            (Param("command", "a command name", Kind.WORD, required=False),),
            example="/help grant",
        )
    )
