"""Benchmark: resident memory of ``dutybot run`` with 10,000 open incidents (SPEC §9: < 150 MB).

Both processes poll the same stand-in Bot API. The baseline is a bare python-telegram-bot
Application that only replies, measured in the same run; dutybot's database holds 10,000 open
incidents with their deadlines, and a supervisor asks for ``/status`` (one page, read in the database)
before the reading is taken. Resident set size (VmRSS) and its peak (VmHWM) from /proc.

Run: ``.venv/bin/python bench/memory.py`` (or ``make bench``).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from bot.app import prepare_database
from bot.configuration import load_configuration
from bot.db.models import Deadline, IncidentRow
from bot.runtime import runtime_from
from tests.botapi import TOKEN, StandInBotApi
from tests.harness import GAO, write_config

INCIDENTS = 10_000
BARE = f"""
import asyncio
from telegram.ext import Application, CommandHandler
async def reply(update, context):
    await update.effective_message.reply_text("received")
app = Application.builder().token({TOKEN!r}).base_url(BASE).build()
app.add_handler(CommandHandler("status", reply))
app.run_polling(timeout=1)
"""


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def seed(config: Path) -> None:
    """10,000 open incidents of the water authority, each with a pending deadline."""
    runtime = runtime_from(load_configuration(config))
    await prepare_database(runtime)
    database = runtime.database
    now = datetime.now(UTC)
    async with database.transaction() as session:
        await session.execute(
            insert(IncidentRow),
            [
                {
                    "unit_id": "water",
                    "level": "III",
                    "sensitive": False,
                    "summary": f"Seeded incident {n}: burst pipe on a residential street",
                    "description": "A long enough description of what happened. " * 5,
                    "reported_at": now,
                    "reporter_id": "xu.tao",
                    "attachments": [],
                    "drill": False,
                    "state": "reported",
                    "version": 1,
                }
                for n in range(INCIDENTS)
            ],
        )
        await session.execute(
            insert(Deadline),
            [
                {
                    "incident_id": n + 1,
                    "kind": "accept",
                    "due_at": now + timedelta(hours=1),
                    "state": "pending",
                    "late": False,
                    "data": {},
                }
                for n in range(INCIDENTS)
            ],
        )
    await database.close()


async def measure(server: StandInBotApi, command: list[str], cwd: Path) -> tuple[float, float]:
    """Start a process, ask /status once, read its memory, stop it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUTYBOT_")}
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        gao = server.user(GAO, "Gao")
        before = len(gao.inbox())
        await gao.send("/status")
        await server.wait_until(lambda: len(gao.inbox()) > before, timeout=120)
        await asyncio.sleep(1)
        return memory_mb(process.pid)
    finally:
        process.terminate()
        await process.wait()


async def main() -> None:
    """Measure both and print the table."""
    server = StandInBotApi()
    await server.start()
    server.started_chats.add(GAO)
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        script = folder / "bare.py"
        script.write_text(f"BASE = {server.base_url!r}\n" + BARE)
        bare = await measure(server, [sys.executable, str(script)], folder)
        url = f"sqlite+aiosqlite:///{folder}/memory.db"
        config = write_config(folder, base_url=server.base_url, database_url=url)
        await seed(config)
        ours = await measure(
            server, [sys.executable, "-m", "bot", "run", "--config", str(config)], folder
        )
    await server.stop()
    print(f"Resident memory, one /status over {INCIDENTS:,} open incidents (SQLite)")
    print("process | RSS MB | peak RSS MB | peak vs bare")
    print("--- | --- | --- | ---")
    print(f"bare PTB reply | {bare[0]:.0f} | {bare[1]:.0f} | 1.0×")
    print(f"dutybot run | {ours[0]:.0f} | {ours[1]:.0f} | {ours[1] / bare[1]:.1f}×")


if __name__ == "__main__":
    asyncio.run(main())
