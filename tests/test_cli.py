"""The installed ``organise-bot`` command, run as a newcomer would."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import run


def test_piped_console_answers_and_exits(tmp_path: Path) -> None:
    result = run(["console"], tmp_path, "/help\n/whoami\n")
    assert result.returncode == 0, result.stderr
    assert "What I can do" in result.stdout
    assert "Your role here: admin" in result.stdout
    assert (tmp_path / "organise.db").exists()


def test_console_chat_and_user_options(tmp_path: Path) -> None:
    result = run(["console", "--chat", "cannock", "--user", "sam"], tmp_path, "/whoami\n")
    assert "[cannock] (only you) You are sam" in result.stdout
    assert "Your role here: member" in result.stdout


def test_run_without_tokens_is_the_console(tmp_path: Path) -> None:
    result = run(["run"], tmp_path, "/start\n")
    assert result.returncode == 0, result.stderr
    assert "Hello alice!" in result.stdout


def test_db_upgrade(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_bad_config_gets_one_clear_line_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[outbox]\nmax_attempts = 'x'\n")
    result = run(["console"], tmp_path, "/help\n")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "organise-bot: config: outbox.max_attempts should be a whole number, not 'x'"
    )


def test_discord_sync_without_a_token_says_what_to_do(tmp_path: Path) -> None:
    result = run(["discord", "sync"], tmp_path)
    assert result.returncode == 2
    assert "DISCORD_BOT_TOKEN is not set" in result.stderr
    assert "Traceback" not in result.stderr
