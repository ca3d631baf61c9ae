"""Keeping the bot token out of the logs.

The token is the bot: whoever has it can read and send as the bot. Yet PTB logs the
API URL (``…/bot<token>``), an HTTP client's errors may quote the request URL, and
PTB puts the token in the text of ``InvalidToken`` — from several child loggers
(``telegram.Bot``, ``telegram.ext.Updater``, ``aiohttp.client``…). A filter on a
logger does not see its children's records, and a filter on a handler misses
handlers configured later, so the redaction is done where every record is made: in
the log record factory, installed once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

TOKEN_MARK = "<telegram-token>"
_tokens: set[str] = set()


def protect_token(token: str) -> None:
    """Redact ``token`` from every log record made from now on."""
    if not _tokens:
        logging.setLogRecordFactory(_redacting(logging.getLogRecordFactory()))
    if token:
        _tokens.add(token)


def redact(text: str) -> str:
    for token in _tokens:
        text = text.replace(token, TOKEN_MARK)
    return text


def _redacting(
    make_record: Callable[..., logging.LogRecord],
) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _scrub(record)
        return record

    return factory


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: logging reports it when it is emitted
        return
    if any(token in message for token in _tokens):
        record.msg, record.args = redact(message), ()
    if record.exc_info and record.exc_info[1] is not None:
        # Formatters reuse exc_text when it is set, so this is what gets printed.
        traceback_text = logging.Formatter().formatException(record.exc_info)
        if any(token in traceback_text for token in _tokens):
            record.exc_text = redact(traceback_text)
