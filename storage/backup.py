"""``organise-bot db backup FILE`` and ``db restore FILE``: the whole database in one
file and back.

SQLite is copied with its online backup API (``sqlite3.Connection.backup``), which
gives a consistent copy even while the bot writes; PostgreSQL with its own tools,
``pg_dump`` and ``pg_restore`` in their custom format, as its documentation
recommends for a database that must come back whole. Restoring replaces what is
there: stop the bot first.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from bot import faults
from bot.faults import StartupError
from storage.db import sqlite_path


def backup(url: str, file: Path) -> None:
    path = sqlite_path(url)
    if path is not None:
        _copy_sqlite(_existing(path), file)
    else:
        _postgres("pg_dump", url, "--format=custom", "--no-owner", f"--file={file}")


def restore(url: str, file: Path) -> None:
    if not file.is_file():
        raise StartupError(faults.backup_missing(str(file)))
    path = sqlite_path(url)
    if path is None:
        _postgres("pg_restore", url, "--clean", "--if-exists", "--no-owner", str(file))
        return
    try:
        with closing(sqlite3.connect(file)) as source:
            source.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        raise StartupError(faults.backup_unreadable(str(file))) from None
    _copy_sqlite(file, path)


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise StartupError(faults.database_missing(str(path)))
    return path


def _copy_sqlite(source: Path, target: Path) -> None:
    try:
        with (
            closing(sqlite3.connect(source)) as reader,
            closing(sqlite3.connect(target)) as writer,
        ):
            reader.backup(writer)
    except sqlite3.Error as error:
        raise StartupError(faults.backup_failed(f"writing {target}", error)) from None


def _postgres(tool: str, url: str, *arguments: str) -> None:
    """Run ``tool`` against the database of ``url``; the password goes in the
    environment, where other users' ``ps`` cannot see it."""
    program = shutil.which(tool)
    if program is None:
        raise StartupError(faults.tool_missing(tool))
    parsed = make_url(url)
    address = parsed.set(drivername="postgresql", password=None)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    database = address.render_as_string(hide_password=False)
    done = subprocess.run(
        [program, f"--dbname={database}", *arguments], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise StartupError(faults.backup_failed(tool, last))
