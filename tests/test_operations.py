"""Running it for real: ``organise-bot check``, ``db backup`` / ``db restore`` on SQLite
and PostgreSQL, ``LOG_LEVEL``, and migrations that several processes may start at
once — each through the real command in a child process where it can be."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from storage.db import Database
from storage.migrate import alembic_config, behind, upgrade
from tests.fakes.serve import served
from tests.support.cli import ROOT, TOKEN, aimed_at_discord, config, run
from tests.support.databases import create_postgres_database, drop_postgres_database

TAGGED = "/tag region:cannock\n"


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """A PostgreSQL database of its own, empty, for a test that migrates or restores."""
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


def lines(output: str) -> list[str]:
    return output.strip().splitlines()


# --- check ---------------------------------------------------------------------------


def test_check_passes_on_a_ready_install(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0

    result = run(["check"], tmp_path)

    assert result.returncode == 0, result.stdout
    assert [line.split(":")[0] for line in lines(result.stdout)] == [
        "✔ config",
        "✔ database",
        "✔ migrations",
        "✔ writes",
    ]


def test_check_names_a_database_not_yet_migrated(tmp_path: Path) -> None:
    result = run(["check"], tmp_path)

    assert result.returncode == 1
    assert "✘ migrations: not migrated to" in result.stdout
    assert "run organise-bot db upgrade" in result.stdout


def test_check_reports_a_bad_config_as_its_one_line(tmp_path: Path) -> None:
    config(tmp_path, "[outbox]\nlease_seconds = 0\n")

    result = run(["check"], tmp_path)

    assert result.returncode == 1
    assert lines(result.stdout) == [
        "✘ config: outbox.lease_seconds should be between 10 and 86400, not 0.0 "
        "(a send may take 10 s; a row whose lease ends mid-send is sent twice)"
    ]


async def test_check_asks_telegram_about_the_token(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    async with served("telegram", limits=False) as fake:
        config(tmp_path, f'[telegram]\nbase_url = "{fake.telegram_base_url}"\n')
        good = run(["check"], tmp_path, TELEGRAM_BOT_TOKEN=fake.token)
        wrong = run(["check"], tmp_path, TELEGRAM_BOT_TOKEN=TOKEN)

    assert good.returncode == 0, good.stdout
    assert "✔ telegram: the Bot API accepts the token of @" in good.stdout
    assert wrong.returncode == 1
    assert "✘ telegram: Telegram rejected the bot token" in wrong.stdout
    assert TOKEN not in wrong.stdout + wrong.stderr


async def test_check_asks_discord_about_the_token(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    async with served("discord", limits=False) as fake:
        checks = {
            token: run(
                ["check"],
                tmp_path,
                program=aimed_at_discord(fake.port),
                DISCORD_BOT_TOKEN=token,
                PYTHONPATH=str(ROOT),
            )
            for token in (fake.token, TOKEN)
        }

    assert checks[fake.token].returncode == 0, checks[fake.token].stdout
    assert "✔ discord: Discord accepts the token of " in checks[fake.token].stdout
    assert "✘ discord: Discord refused DISCORD_BOT_TOKEN" in checks[TOKEN].stdout


# --- backup and restore --------------------------------------------------------------


def round_trip(tmp_path: Path, **env: str) -> None:
    """Tag a chat, back up, untag, restore: the tag is back."""
    assert run(["console"], tmp_path, TAGGED, **env).returncode == 0
    made = run(["db", "backup", "saved.backup"], tmp_path, **env)
    assert made.returncode == 0, made.stderr
    assert run(["console"], tmp_path, "/untag region:cannock\n", **env).returncode == 0

    restored = run(["db", "restore", "saved.backup"], tmp_path, **env)

    assert restored.returncode == 0, restored.stderr
    assert "restored from saved.backup" in restored.stdout
    assert "region:cannock" in run(["console"], tmp_path, "/tags\n", **env).stdout


def test_backup_and_restore_sqlite(tmp_path: Path) -> None:
    round_trip(tmp_path)


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="PostgreSQL's client tools")
def test_backup_and_restore_postgresql(tmp_path: Path, fresh_postgres: str) -> None:
    round_trip(tmp_path, DATABASE_URL=fresh_postgres)


def test_restoring_something_else_changes_nothing(tmp_path: Path) -> None:
    assert run(["console"], tmp_path, TAGGED).returncode == 0
    (tmp_path / "notes.txt").write_text("not a database")

    result = run(["db", "restore", "notes.txt"], tmp_path)

    assert result.returncode == 1
    assert lines(result.stderr) == [
        "organise-bot: notes.txt is not a backup of this bot's SQLite database: give a file "
        "made by organise-bot db backup"
    ]
    assert "region:cannock" in run(["console"], tmp_path, "/tags\n").stdout


def test_backup_needs_a_file(tmp_path: Path) -> None:
    result = run(["db", "backup"], tmp_path)

    assert result.returncode == 2
    assert "db backup needs a file" in result.stderr


# --- logging -------------------------------------------------------------------------


def test_log_level_comes_from_the_environment(tmp_path: Path) -> None:
    quiet = run(["console"], tmp_path, "/help\n")
    chatty = run(["console"], tmp_path, "/help\n", LOG_LEVEL="info")
    wrong = run(["console"], tmp_path, "/help\n", LOG_LEVEL="loud")

    assert " INFO " not in quiet.stderr
    assert " INFO " in chatty.stderr
    assert wrong.returncode == 2
    assert lines(wrong.stderr) == [
        "organise-bot: config: LOG_LEVEL should be one of DEBUG, INFO, WARNING, ERROR, not 'LOUD'"
    ]


# --- migrations ----------------------------------------------------------------------


async def test_processes_starting_together_migrate_one_after_another(
    fresh_postgres: str,
) -> None:
    """Without the advisory lock, both create the same tables at once and one fails."""
    databases = [Database(fresh_postgres) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(database) for database in databases))
        assert await behind(databases[0]) == set()
    finally:
        for database in databases:
            await database.close()


def test_migrations_end_in_one_head_and_each_branch_has_its_label() -> None:
    """Two capabilities adding migrations side by side make two heads: the second to
    merge must join them (``alembic merge``), so that ``db upgrade`` has one target.
    Where the history branches, each branch carries a label (``alembic upgrade
    polls@head``) — all but one, which goes on with its parent's."""
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    for parent in revisions:
        children = [script.get_revision(r) for r in parent.nextrev]
        if len(children) > 1:
            new = [c for c in children if c is not None and c.branch_labels - parent.branch_labels]
            assert len(new) >= len(children) - 1, f"label the branches from {parent.revision}"
    assert [r.revision for r in script.get_revisions("foundation") if r] == ["0001"]
    assert {
        script.get_revision(f"{label}@head").revision for label in ("alerts", "meetings", "polls")
    } == set(script.get_heads())
