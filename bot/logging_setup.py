"""Logging for a service: plain lines to stderr, the bot token never printed."""

from __future__ import annotations

import logging


class RedactToken(logging.Filter):
    """Replace the bot token wherever it would appear in a log line (URLs, exceptions)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, redacted, so arguments cannot smuggle the token out."""
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg = message.replace(self.token, "<token>")
                record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                text = logging.Formatter().formatException(record.exc_info)
                if self.token in text:
                    record.exc_text = text.replace(self.token, "<token>")
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


def configure_logging(token: str, level: int = logging.INFO) -> None:
    """Log to stderr with the token redacted; keep the HTTP client quiet (its lines carry URLs)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(OneLineNetworkErrors())
    handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
