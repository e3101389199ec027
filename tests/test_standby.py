"""Active/standby on PostgreSQL: two ``dutybot run`` processes, only the leader acts; SIGKILL the
leader during a burst of reports and a due escalation, and the standby carries on."""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db.models import IncidentRow
from tests.botapi import StandInBotApi
from tests.conftest import POSTGRES_URL
from tests.harness import LI, QIAN, WANG, XU, start_bot, write_config

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="active/standby needs PostgreSQL")
BURST = 6


async def incident_reports(url: str) -> dict[int, str]:
    """Every incident's number and description."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(IncidentRow.id, IncidentRow.description))
            return {number: description for number, description in rows}
    finally:
        await engine.dispose()


class Watched:
    """A ``dutybot run`` process whose stderr lines are collected as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.lines.append(line.decode(errors="replace").rstrip())

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    async def until(self, text: str, timeout: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.said(text):
            assert asyncio.get_running_loop().time() < deadline, f"never said {text!r}"
            await asyncio.sleep(0.05)

    async def end(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 30)
        await self.reader


async def test_the_standby_takes_over_when_the_leader_is_killed(
    tmp_path: Path, botapi: StandInBotApi, database_url: str
) -> None:
    config = write_config(
        tmp_path,
        base_url=botapi.base_url,
        database_url=database_url,
        extra='\n[levels.unassessed]\naccept = "4s"\n',
        private_per_second=1.0,  # Telegram's own limit, kept across the failover
    )
    botapi.enforce_limits = True  # the stand-in answers 429 to anything faster
    botapi.started_chats.update({WANG, LI, QIAN, XU})
    botapi.send_delay = 0.05
    first = Watched(await start_bot(config))
    await first.until("leading")
    second = Watched(await start_bot(config))
    try:
        await second.until("standing by")
        xu = botapi.user(XU, "Xu")
        for n in range(BURST):
            await xu.send(f"/report Pipe burst {n}")
        await botapi.wait_until(lambda: len(botapi.sent) >= 3, timeout=30)
        assert not second.said("leading")  # only one process acts
        first.process.send_signal(signal.SIGKILL)
        await first.process.wait()
        for n in range(BURST, 2 * BURST):
            await xu.send(f"/report Pipe burst {n}")
        await second.until("leading", timeout=15)

        def receipts() -> set[int]:
            found = set()
            for m in xu.inbox():
                match = re.match(r"Received as #(\d+)\.", m.text)
                if match:
                    found.add(int(match.group(1)))
            return found

        def escalated() -> set[str]:
            return {m.text.split(":")[0] for m in botapi.sent if m.text.startswith("🔺")}

        await botapi.wait_until(lambda: len(receipts()) == 2 * BURST, timeout=60)
        numbers = receipts()
        await botapi.wait_until(
            lambda: all(any(f"#{n}" in e for e in escalated()) for n in numbers), timeout=60
        )
    finally:
        await second.end()
        if first.process.returncode is None:
            first.process.kill()
        await first.reader
    # Every report became exactly one incident, and its reporter was told its number. (Numbers
    # may skip one: PostgreSQL does not give back a sequence value taken by the transaction the
    # kill cut short.)
    reports = await incident_reports(database_url)
    assert sorted(reports.values()) == sorted(f"Pipe burst {n}" for n in range(2 * BURST))
    assert numbers == set(reports)
    alerts = [m.text for m in botapi.sent if m.text.startswith("🚨")]
    for n in numbers:  # every acknowledged report was alerted to the officers
        assert any(re.search(rf"#{n}\b", text) for text in alerts), n
    sends = Counter((m.chat_id, m.text) for m in botapi.sent)
    twice = Counter(chat for (chat, _), count in sends.items() for _ in range(count - 1))
    # a duplicate only for what was in flight at the kill: at most one send per chat
    assert all(count <= 1 for count in twice.values()), [k for k, c in sends.items() if c > 1]
    escalations = Counter(
        (m.chat_id, m.text.split(":")[0]) for m in botapi.sent if m.text.startswith("🔺")
    )
    assert all(count == 1 for count in escalations.values()), escalations  # fired once
    assert botapi.rate_limited == 0  # the deployment as a whole kept Telegram's limits
