"""Where the log lines go and how they look: ``LOG_LEVEL`` and ``LOG_FORMAT``.

``LOG_FORMAT=json`` writes one JSON object a line (python-json-logger), for a log
collector: each record's structured extras — ``delivery_id``, ``announcement_id``,
``platform`` — become fields of their own, so a delivery can be followed by its
id without parsing sentences. Log lines name things by their ids, never by a
person's name or words: at info level no personal data reaches the log.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from pythonjsonlogger.json import JsonFormatter

from bot.config import ConfigError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


def level(quiet: bool, env: Mapping[str, str] | None = None) -> int:
    """``$LOG_LEVEL`` if set; else warnings only when ``quiet`` (the console, where
    log lines would tangle with the conversation) and info otherwise."""
    env = os.environ if env is None else env
    name = env.get("LOG_LEVEL", "").strip().upper()
    if not name:
        return logging.WARNING if quiet else logging.INFO
    if name not in LEVELS:
        raise ConfigError(f"LOG_LEVEL should be one of {', '.join(LEVELS)}, not {name!r}")
    chosen: int = logging.getLevelNamesMapping()[name]
    return chosen


def formatter(env: Mapping[str, str] | None = None) -> logging.Formatter:
    """``$LOG_FORMAT``'s formatter: plain lines (the default) or JSON."""
    env = os.environ if env is None else env
    name = env.get("LOG_FORMAT", "").strip().lower() or "text"
    if name not in FORMATS:
        raise ConfigError(f"LOG_FORMAT should be text or json, not {name!r}")
    if name == "text":
        return logging.Formatter(TEXT)
    return JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level"})


def configure(quiet: bool, env: Mapping[str, str] | None = None) -> None:
    """Send the log to standard error at the chosen level and format. Raises
    :class:`ConfigError` for a level or format it does not know."""
    chosen, shaped = level(quiet, env), formatter(env)
    handler = logging.StreamHandler()
    handler.setFormatter(shaped)
    logging.basicConfig(level=chosen, handlers=[handler])
    # APScheduler reports every job it adds at info level: noise to the person
    # running the bot, who is told what matters by our own log lines.
    logging.getLogger("apscheduler").setLevel(max(chosen, logging.WARNING))
