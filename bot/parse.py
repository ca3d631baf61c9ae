"""Turn the text after a command into typed arguments, or a friendly explanation.

Quoting follows the shell (stdlib :mod:`shlex`) with changes for people typing on
phones: curly quotes count as straight ones, and single quotes group words only
where they pair at the edges of words ('Sat 12th'), so an apostrophe in
``Miners' Welfare`` or ``don't`` is just a letter.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from bot.context import UserError
from bot.registry import Command, Kind, Param
from bot.values import visible, whole_number

SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'"})


class ParseError(Exception):
    """Input that does not fit the command; the message is shown to the person."""


@dataclass
class Parsed:
    command: Command
    args: dict[str, Any] = field(default_factory=dict)


# A phrase in British single quotes: a ' starting a word, up to a ' ending one (and
# no other quote between); "double-quoted" stretches are passed over unchanged.
_SINGLE_QUOTED = re.compile(r"""("[^"]*"?)|(?<!\S)'([^'"]*?[^'"\s])'(?!\S)""")


def _british(text: str) -> str:
    """``'Sat 12th'`` as ``"Sat 12th"``, while the apostrophes of ``Miners' Welfare``
    and ``don't`` stay letters: only quotes that pair at the edges of words count."""
    return _SINGLE_QUOTED.sub(lambda m: m[1] or f'"{m[2]}"', text)


def quoted(text: str) -> bool:
    """Whether ``text`` quotes anything, in any of the quotes :func:`tokenize` reads."""
    return '"' in _british(text.translate(SMART_QUOTES))


def tokenize(text: str) -> list[str]:
    """The words and quoted phrases of ``text``, each :func:`~bot.values.visible`:
    invisible characters cannot make a tag, an option or an id look like another."""
    lexer = shlex.shlex(_british(text.translate(SMART_QUOTES)), posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    try:
        return [visible(token) for token in lexer]
    except ValueError:
        raise ParseError('A quote is not closed: put a " at the end of the phrase.') from None


def suggest(word: str, candidates: list[str]) -> str | None:
    matches = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def parse(command: Command, text: str) -> Parsed:
    """Bind ``text`` to ``command``'s parameters (descending into a subcommand)."""
    tokens = tokenize(text)
    if command.subcommands:
        names = [sub.name for sub in command.subcommands]
        default = command.subcommand(command.default)
        if default is not None and (not tokens or command.subcommand(tokens[0].lower()) is None):
            return _bind(default, tokens, text, command.name)
        if not tokens:
            raise ParseError(f"/{command.name} needs one of: {', '.join(names)}.")
        sub = command.subcommand(tokens[0].lower())
        if sub is None:
            hint = suggest(tokens[0].lower(), names)
            extra = f" Did you mean /{command.name} {hint}?" if hint else ""
            raise ParseError(
                f"/{command.name} has no “{tokens[0]}”. Choose one of: {', '.join(names)}.{extra}"
            )
        return _bind(sub, tokens[1:], text, f"{command.name} {sub.name}")
    return _bind(command, tokens, text, command.name)


def _bind(command: Command, tokens: list[str], raw: str, shown: str) -> Parsed:
    args: dict[str, Any] = {}
    positional: list[str] = []
    options = {p.name: p for p in command.options}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.startswith("--") and len(token) > 2:
            name, has_value, value = token[2:].partition("=")
            param = options.get(name.lower())
            if param is None:
                hint = suggest(name, list(options))
                tip = f" Did you mean --{hint}?" if hint else ""
                known = ", ".join(f"--{o}" for o in options) or "none"
                raise ParseError(f"/{shown} has no option --{name}.{tip} (options: {known})")
            if param.flag:
                args[param.name] = True
                continue
            if not has_value:
                if index >= len(tokens):
                    raise ParseError(f"--{param.name} needs a value: {param.description}")
                value = tokens[index]
                index += 1
            args[param.name] = _convert(param, value, command, shown)
        else:
            positional.append(token)
    _bind_positionals(command, positional, args, raw, shown)
    return Parsed(command, args)


def _bind_positionals(
    command: Command, values: list[str], args: dict[str, Any], raw: str, shown: str
) -> None:
    params = command.positionals
    for position, param in enumerate(params):
        last = position == len(params) - 1
        if param.kind is Kind.REST or (param.repeat and last):
            taken, values = values, []
            if param.kind is Kind.REST:
                args[param.name] = " ".join(taken)
            else:
                args[param.name] = [_convert(param, v, command, shown) for v in taken]
            if param.required and not taken:
                raise _missing(command, param, shown)
            continue
        if not values:
            if param.required:
                raise _missing(command, param, shown)
            continue
        args[param.name] = _convert(param, values.pop(0), command, shown)
    if values:
        extra = " ".join(f'"{v}"' if " " in v else v for v in values)
        raise ParseError(
            f"Too many words for /{shown}: {extra}. Put a phrase in double quotes. "
            + _usage(command, shown)
        )


def _convert(param: Param, value: str, command: Command, shown: str) -> Any:
    if param.kind is Kind.INT:
        try:
            return whole_number(value, param.label, param.low, param.high)
        except UserError as refusal:
            raise ParseError(f"{refusal} {_usage(command, shown)}") from None
    if param.kind is Kind.CHOICE:
        lowered = value.lower()
        if lowered not in param.choices:
            hint = suggest(lowered, list(param.choices))
            tip = f" Did you mean {hint}?" if hint else ""
            raise ParseError(
                f"{param.name} should be one of {', '.join(param.choices)}, not “{value}”.{tip}"
            )
        return lowered
    return value


def _missing(command: Command, param: Param, shown: str) -> ParseError:
    return ParseError(f"/{shown} needs {param.name}: {param.description}. {_usage(command, shown)}")


def _usage(command: Command, shown: str) -> str:
    usage = command.usage().replace(f"/{command.name}", f"/{shown}", 1)
    example = f" Example: {command.example}" if command.example else ""
    return f"Usage: {usage}.{example}"
