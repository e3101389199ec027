"""``dutybot run`` as a real process: starts, answers, stops in order on SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.botapi import TOKEN, StandInBotApi
from tests.harness import XU, start_bot

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_run_answers_and_stops_in_order(
    config_path: Path, botapi: StandInBotApi, stop_signal: signal.Signals
) -> None:
    process = await start_bot(config_path)
    try:
        xu = botapi.user(XU, "Xu")
        await xu.send("/start")
        greeting = await xu.next_message(timeout=30)
        assert "Xu Tao" in greeting.text
        process.send_signal(stop_signal)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "dutybot started" in log and "dutybot stopped" in log
    assert TOKEN not in log
    assert "Traceback" not in log
