"""``organise-bot``: run the bot, open the console, or migrate the database."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys

from adapters.runner import run
from bot import config as configuration
from bot.clock import SystemClock
from bot.config import Config, ConfigError
from bot.faults import StartupError
from bot.retention import purge_report, run_purge
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
    db.add_argument("task", choices=["upgrade", "purge"], help="upgrade: apply migrations")
    db.add_argument("--dry-run", action="store_true", help="purge: only list what would go")
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
        if args.command == "db" and args.task == "purge":
            print(asyncio.run(_purge(config, dry_run=args.dry_run)))
        elif args.command == "db":
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
