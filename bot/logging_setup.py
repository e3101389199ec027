"""Logging for a service: text or JSON lines to stderr, the bot token never printed.

The token is removed twice: a filter on every handler rewrites each record (its message, its
exception text, its stack) before any handler sees it, and the formatters redact the finished
line again, so nothing a library puts into a record (a URL logged by httpx at DEBUG, an exception
whose text quotes a request) reaches the output with the token in it.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO
from urllib.parse import quote

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
REDACTED = "<token>"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose INFO lines are one per HTTP request or job run: quiet unless asked for DEBUG.
NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler")


class Redactor:
    """Replaces a secret, and its percent-encoded forms, wherever it occurs in a text."""

    def __init__(self, secret: str) -> None:
        forms = {secret, quote(secret, safe=""), quote(secret)} if secret else set()
        self.forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """The text with every form of the secret replaced by ``<token>``."""
        for form in self.forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text


class RedactToken(logging.Filter):
    """Replace the bot token wherever it would appear in a log record (URLs, exceptions)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.redact = Redactor(token)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, redacted, so arguments cannot smuggle the token out."""
        if not self.token:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg = clean
            record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class OneLineNetworkErrors(logging.Filter):
    """python-telegram-bot logs every failed attempt to reach Telegram with a traceback; while
    the network is down that is a page of noise a minute. Keep one line with the reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop the traceback of network-retry records, keeping the error's text."""
        if record.name.startswith("telegram") and "Retry Loop" in record.getMessage():
            error = record.exc_info[1] if record.exc_info else None
            if error is not None:
                record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
                record.args = None
                record.exc_info = None
                record.exc_text = None
        return True


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message`` lines (and the traceback), redacted once more."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """The usual text line, with the token removed from all of it."""
        return self.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, exception."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON, every field redacted."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = self.redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = self.redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


def build_handler(
    token: str, log_format: LogFormat = "text", stream: TextIO | None = None
) -> logging.Handler:
    """A stream handler with the token filter and the chosen, redacting formatter."""
    redact = Redactor(token)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    formatter: logging.Formatter = (
        JsonFormatter(redact) if log_format == "json" else TextFormatter(redact)
    )
    handler.setFormatter(formatter)
    handler.addFilter(OneLineNetworkErrors())
    handler.addFilter(RedactToken(token))
    return handler


def parse_level(name: str) -> int:
    """``DEBUG``, ``INFO``, ``WARNING`` or ``ERROR`` (any case) as a logging level."""
    upper = name.upper()
    if upper not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}, got {name!r}")
    level: int = getattr(logging, upper)
    return level


def configure_logging(
    token: str,
    level: int = logging.INFO,
    log_format: LogFormat = "text",
    stream: TextIO | None = None,
) -> None:
    """Log to stderr (or ``stream``) as text or JSON lines with the token redacted.

    Every handler already on the root logger is replaced; any handler added later to the root
    logger by this process should be built with ``build_handler``. At INFO and above the HTTP
    client and the scheduler are kept at WARNING (one line per request otherwise); at DEBUG
    they log everything, redacted like the rest.
    """
    root = logging.getLogger()
    root.handlers[:] = [build_handler(token, log_format, stream)]
    root.setLevel(level)
    quiet = logging.NOTSET if level <= logging.DEBUG else logging.WARNING
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(quiet)
