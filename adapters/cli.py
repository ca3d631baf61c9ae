"""``organise-bot``: run the bot, open the console, check the install, or look after
the database (migrate, back up, restore)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path

from adapters import logs
from adapters.check import report, run_checks
from adapters.console import SPEC as CONSOLE
from adapters.health import probe
from adapters.runner import register_platforms, run, serving
from bot import config as configuration
from bot.clock import SystemClock
from bot.config import Config, ConfigError
from bot.faults import StartupError
from bot.retention import purge_report, run_purge
from storage import backup
from storage.db import Database
from storage.migrate import prepare


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    register_platforms()
    if args.command == "db" and args.task in {"backup", "restore"} and args.file is None:
        parser.error(f"db {args.task} needs a file: organise-bot db {args.task} FILE")
    if args.command == "check":  # reports a config that does not load as one of its lines
        lines, status = report(asyncio.run(run_checks(args.config)))
        print(lines)
        return status
    try:
        config = configuration.load(args.config)
        platforms = args.command == "run" and bool(serving(config))
        logs.configure(quiet=not platforms)
    except ConfigError as error:
        print(f"organise-bot: config: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "discord":
            return _discord_sync(config)
        if args.command == "health":
            text, status = probe(config.health)
            print(text, file=sys.stdout if status == 0 else sys.stderr)
            return status
        _do(args, config)
    except ConfigError as error:  # found only on connecting, e.g. a rejected token
        print(f"organise-bot: config: {error}", file=sys.stderr)
        return 2
    except StartupError as error:  # e.g. a read-only database, an unreachable Bot API
        print(f"organise-bot: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="organise-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="serve every enabled adapter")
    console = commands.add_parser("console", help="try the bot in this terminal")
    console.add_argument("--chat", help="the chat to start in")
    console.add_argument("--user", help="the person to speak as")
    check = commands.add_parser(
        "check", help="is this install ready? config, database, migrations, tokens"
    )
    health = commands.add_parser(
        "health", help="ask the running bot's /healthz (see [health]): exit 0 if healthy"
    )
    db = commands.add_parser("db", help="database tasks")
    db.add_argument(
        "task",
        choices=["upgrade", "backup", "restore", "purge"],
        help="upgrade: apply migrations; backup FILE: copy the database into FILE; "
        "restore FILE: replace the database with FILE (stop the bot first); "
        "purge: delete personal data past [retention]",
    )
    db.add_argument("file", nargs="?", type=Path, help="the backup file")
    db.add_argument("--dry-run", action="store_true", help="purge: only list what would go")
    discord = commands.add_parser("discord", help="Discord tasks")
    discord.add_argument("task", choices=["sync"], help="sync: publish slash commands now")
    for sub in (run_parser, console, check, health, db, discord):
        sub.add_argument("--config", help="config file (default: $ORGANISE_CONFIG or config.toml)")
    return parser


def _do(args: argparse.Namespace, config: Config) -> None:
    interactive = sys.stdin.isatty()
    if args.command == "db" and args.task == "purge":
        print(asyncio.run(_purge(config, dry_run=args.dry_run)))
    elif args.command == "db":
        _database_task(args.task, args.file, config)
    elif args.command == "console":
        settings = CONSOLE.section(config)
        where = dataclasses.replace(
            settings, chat=args.chat or settings.chat, user=args.user or settings.user
        )
        config = config.with_platform(CONSOLE.name, where)
        asyncio.run(run(config, console_only=True, interactive=interactive))
    else:
        asyncio.run(run(config, interactive=interactive))


def _database_task(task: str, file: Path | None, config: Config) -> None:
    url = config.database.url
    if task == "upgrade":
        asyncio.run(_upgrade(config))
        print("database is up to date")
        return
    assert file is not None  # main() checked
    if task == "backup":
        backup.backup(url, file)
        print(f"database copied into {file}")
    else:
        backup.restore(url, file)
        asyncio.run(_upgrade(config))  # a backup from an older release catches up
        print(f"database restored from {file}")


def _discord_sync(config: Config) -> int:
    """Publish the slash commands whether or not they changed (``run`` publishes
    them only when they did). discord.py is imported only for this."""
    import discord

    from adapters.discord import publish_commands

    try:
        targets = asyncio.run(publish_commands(config))
    except discord.DiscordException as error:
        print(f"organise-bot: Discord refused the slash commands: {error}", file=sys.stderr)
        return 1
    print("published the slash commands to " + ", ".join(targets))
    return 0


async def _upgrade(config: Config) -> None:
    database = Database(config.database.url)
    try:
        await prepare(database)
    finally:
        await database.close()


async def _purge(config: Config, *, dry_run: bool) -> str:
    """Personal data past its time by ``[retention]``, purged or (dry run) listed."""
    database = Database(config.database.url)
    try:
        counts = await run_purge(database, config.retention, SystemClock().now(), dry_run=dry_run)
    finally:
        await database.close()
    return purge_report(counts, dry_run=dry_run)


if __name__ == "__main__":
    sys.exit(main())
