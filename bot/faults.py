"""Faults found while starting, each worded as one line: what is wrong and how to fix it.

The person starting the bot — often a branch secretary on a small server — sees
this line and nothing else: a traceback hides the cause under a hundred lines of
library internals, and can quote a secret (the Bot API's address holds the token).
So the storage and the adapters turn what they catch at start into a
:class:`StartupError` with one of these sentences, and ``organise-bot`` prints it
and exits with a non-zero status.
"""

from __future__ import annotations


class StartupError(Exception):
    """A fault that stops the bot from starting, worded for the person running it."""


def _reason(error: BaseException | str) -> str:
    """An error's own words on one line, without the exception's class name."""
    words = str(error).strip() or type(error).__name__
    return " ".join(words.split())


def database_folder_missing(folder: str) -> str:
    return (
        f"the database folder {folder} does not exist: create it (mkdir -p {folder}) "
        "or point database.url at a folder that exists"
    )


def database_read_only(where: str) -> str:
    return (
        f"the database {where} is read-only: make the file and its folder writable by "
        "the user running the bot, or point database.url at a writable database"
    )


def database_file_unopenable(path: str, error: BaseException) -> str:
    return (
        f"cannot open the database file {path} ({_reason(error)}): SQLite writes files "
        "beside it, so make its folder writable by the user running the bot too"
    )


def database_unreachable(where: str, error: BaseException) -> str:
    return (
        f"cannot open the database {where} ({_reason(error)}): check database.url "
        "(or DATABASE_URL), that the server is running, and that this user may use it"
    )


def platform_unreachable(platform: str, where: str, error: BaseException | str) -> str:
    return (
        f"cannot reach {platform} at {where} ({_reason(error)}): check this machine's "
        "network and proxy, or the address in the config"
    )


def database_missing(path: str) -> str:
    return f"there is no database at {path}: check database.url (or DATABASE_URL)"


def backup_missing(file: str) -> str:
    return f"there is no backup file {file}: give the path of a file made by db backup"


def backup_unreadable(file: str) -> str:
    return (
        f"{file} is not a backup of this bot's SQLite database: give a file made by "
        "organise-bot db backup"
    )


def backup_failed(what: str, error: BaseException | str) -> str:
    return (
        f"{what} failed ({_reason(error)}): check the file's path and that this user "
        "may write there"
    )


def tool_missing(tool: str) -> str:
    return (
        f"{tool} is not installed: install PostgreSQL's client tools "
        "(apt install postgresql-client), matching the server's version or newer"
    )
