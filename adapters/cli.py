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
from bot.faults import StartupError
from storage.db import Database
from storage.migrate import prepare


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="organise-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="serve every enabled adapter")
    console = commands.add_parser("console", help="try the bot in this terminal")
    console.add_argument("--chat", help="the chat to start in")
    console.add_argument("--user", help="the person to speak as")
    db = commands.add_parser("db", help="database tasks")
    db.add_argument("task", choices=["upgrade"], help="upgrade: apply migrations")
    for sub in (run_parser, console, db):
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
    # APScheduler reports every job it adds at info level: noise to the person
    # running the bot, who is told what matters by our own log lines.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        if args.command == "db":
            asyncio.run(_upgrade(config))
            print("database is up to date")
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
    except StartupError as error:  # e.g. a read-only database, an unreachable Bot API
        print(f"organise-bot: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


async def _upgrade(config: Config) -> None:
    database = Database(config.database.url)
    try:
        await prepare(database)
    finally:
        await database.close()


if __name__ == "__main__":
    sys.exit(main())
