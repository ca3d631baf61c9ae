"""``organise-bot``: run the bot, open the console, or migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys

from adapters.runner import run
from bot import config as configuration
from bot.config import Config, ConfigError
from storage.db import Database
from storage.migrate import upgrade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="organise-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="serve every enabled adapter")
    console = commands.add_parser("console", help="try the bot in this terminal")
    console.add_argument("--chat", help="the chat to start in")
    console.add_argument("--user", help="the person to speak as")
    db = commands.add_parser("db", help="database tasks")
    db.add_argument("task", choices=["upgrade"], help="upgrade: apply migrations")
    discord = commands.add_parser("discord", help="Discord tasks")
    discord.add_argument("task", choices=["sync"], help="sync: publish slash commands now")
    for sub in (run_parser, console, db, discord):
        sub.add_argument("--config", help="config file (default: $ORGANISE_CONFIG or config.toml)")
    args = parser.parse_args(argv)

    try:
        config = configuration.load(args.config)
    except ConfigError as error:
        print(f"organise-bot: config: {error}", file=sys.stderr)
        return 2
    interactive = sys.stdin.isatty()
    # In the console, log lines would tangle with the conversation: warnings only.
    serving_platforms = args.command == "run" and (config.telegram_token or config.discord_token)
    logging.basicConfig(
        level=logging.INFO if serving_platforms else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "db":
            asyncio.run(_upgrade(config))
            print("database is up to date")
        elif args.command == "discord":
            return _discord_sync(config)
        elif args.command == "console":
            where = dataclasses.replace(
                config.console,
                chat=args.chat or config.console.chat,
                user=args.user or config.console.user,
            )
            config = dataclasses.replace(config, console=where)
            asyncio.run(run(config, console_only=True, interactive=interactive))
        else:
            asyncio.run(run(config, interactive=interactive))
    except ConfigError as error:  # found only on connecting, e.g. a rejected token
        print(f"organise-bot: config: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except OSError as error:  # e.g. the database file's folder does not exist
        print(f"organise-bot: {error}", file=sys.stderr)
        return 1
    return 0


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
        await upgrade(database)
    finally:
        await database.close()


if __name__ == "__main__":
    sys.exit(main())
