"""Logs: text or JSON lines, and the bot token in none of them, at any level, from any library."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from bot.logging_setup import LogFormat, configure_logging
from tests.botapi import TOKEN, StandInBotApi
from tests.harness import XU

URL = f"https://api.telegram.org/bot{TOKEN}/getUpdates"


async def start_bot(config_path: Path, *options: str) -> asyncio.subprocess.Process:
    """``dutybot run`` as a process, with ``options`` after the config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUTYBOT_")}
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", "run", "--config", str(config_path), *options),
        cwd=config_path.parent,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger and the quietened loggers back as they were."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "x")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def emit_like_httpx() -> None:
    """Log the way httpx, httpcore and a failing caller do: the token in arguments and errors."""
    logging.getLogger("httpx").info(
        'HTTP Request: %s %s "%s %d %s"', "POST", httpx.URL(URL), "HTTP/1.1", 200, "OK"
    )
    logging.getLogger("httpcore.connection").debug("connect_tcp.started url=%r", URL)
    logging.getLogger("httpx").debug("percent-encoded: %s", quote(URL, safe=""))
    try:
        raise httpx.ConnectError(f"cannot reach {URL}")
    except httpx.ConnectError:
        logging.getLogger("telegram.ext.Updater").exception("Error while getting updates")
    logging.getLogger("x").warning("stack", stack_info=True, extra={"url": URL})
    logging.getLogger("x").error("plain %s", TOKEN)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_line_carries_the_token_at_debug(log_format: LogFormat, restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging(TOKEN, logging.DEBUG, log_format, stream=out)
    emit_like_httpx()
    text = out.getvalue()
    assert TOKEN not in text
    assert quote(TOKEN, safe="") not in text
    assert "bot<token>/getUpdates" in text  # the URL is still there, only the token is gone
    assert "connect_tcp.started" in text  # DEBUG lines of httpcore are not dropped
    assert "ConnectError" in text
    if log_format == "json":
        entries = [json.loads(line) for line in text.splitlines()]
        assert len(entries) == 6
        assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
        failure = entries[3]
        assert failure["level"] == "ERROR" and failure["logger"] == "telegram.ext.Updater"
        assert "httpx.ConnectError: cannot reach" in failure["exception"]
        assert "stack" in entries[4]
        assert "exception" not in entries[0]
        assert entries[0]["time"].endswith("+00:00")


def test_http_client_is_quiet_at_info(restore_logging: None) -> None:
    out = io.StringIO()
    configure_logging(TOKEN, logging.INFO, "text", stream=out)
    logging.getLogger("httpx").info("HTTP Request: POST %s", URL)
    logging.getLogger("dutybot").info("started")
    assert "HTTP Request" not in out.getvalue()
    assert "INFO dutybot: started" in out.getvalue()


async def test_dutybot_run_logs_json_at_debug_without_the_token(
    config_path: Path, botapi: StandInBotApi
) -> None:
    """The real process, every library at DEBUG, with 401 and 5xx faults: each line is JSON,
    none has the token."""
    botapi.fail("getUpdates", code=502, description="Bad Gateway", count=2)
    botapi.fail("sendMessage", code=401, description="Unauthorized")
    botapi.fail("sendMessage", code=500)
    process = await start_bot(config_path, "--log-format", "json", "--log-level", "debug")
    assert process.stderr is not None
    reading = asyncio.create_task(process.stderr.read())  # DEBUG fills a pipe quickly
    try:
        xu = botapi.user(XU, "Xu")
        await xu.send("/start")
        assert "Xu Tao" in (await xu.next_message(timeout=30)).text
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    stderr = await asyncio.wait_for(reading, timeout=10)
    log = stderr.decode()
    assert process.returncode == 0, log
    assert TOKEN not in log
    entries = [json.loads(line) for line in log.splitlines()]
    loggers = {entry["logger"].split(".")[0] for entry in entries}
    assert {"bot", "telegram"} <= loggers, loggers
    # the Bot API client's request lines carry the URL, token redacted
    requests = [e["message"] for e in entries if e["logger"] == "bot.telegram_http"]
    assert any("bot<token>/sendMessage" in message for message in requests), requests[:5]
    assert any(entry["level"] == "DEBUG" for entry in entries)
    failures = " ".join(entry["message"] + entry.get("exception", "") for entry in entries)
    assert "Unauthorized" in failures and "Bad Gateway" in failures, failures[-3000:]
