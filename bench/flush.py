"""Benchmark: a report's new rows written at its commit — its accept and flash deadlines and the
flash's warning, three alert cards and a receipt in the outbox, the three cards' alert links —
by the ORM's unit of work (as it was) against ``bot.db.keyed``'s Core inserts at the flush (as
it is).

The two take turns per round of ``CALLS`` on one database, so that a busy machine's drift hits
both alike; the first round warms up and is not counted. The time is the whole transaction:
session, rows queued, flush, commit.

Run: ``.venv/bin/python bench/flush.py [postgresql+psycopg://…]`` (SQLite by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.db import keyed
from bot.db.engine import Database
from bot.db.migrate import upgrade
from bot.db.models import IncidentRow, PersonRow, UnitRow
from bot.delivery.outbox import enqueue
from bot.incidents.service import remember_alert
from scheduling import rows

ROUNDS, CALLS = 6, 300
AT = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


async def a_report(database: Database, incident_id: int) -> None:
    """One report's rows, queued and committed in one transaction."""
    async with database.transaction() as session:
        incident = await session.get_one(IncidentRow, incident_id)
        rows.add(session, incident_id, "accept", AT + timedelta(minutes=5))
        flash = rows.add(session, incident_id, "flash", AT + timedelta(minutes=30))
        rows.add(session, incident_id, "warning", AT + timedelta(minutes=25), parent=flash)
        for chat in (3001, 3002, 3003):
            [card] = enqueue(session, chat, f"Level II: pipe burst ({chat})", priority=2)
            remember_alert(session, incident, card, chat, None)
        enqueue(session, 3010, "Report received", priority=5)


async def setup(database: Database) -> int:
    """A unit, a reporter and the incident the rows belong to."""
    await upgrade(database)
    async with database.transaction() as session:
        session.add(UnitRow(id="city", name="City"))
        await session.flush()
        session.add(PersonRow(id="xu", name="Xu", unit_id="city", roles="officer"))
        await session.flush()
        incident = IncidentRow(unit_id="city", summary="pipe", reported_at=AT, reporter_id="xu")
        session.add(incident)
        await session.flush()
        return incident.id


WAYS: dict[str, Callable[[], contextlib.AbstractContextManager[object]]] = {
    "ORM unit of work": lambda: mock.patch.dict(keyed.SHAPES, clear=True),
    "Core at the flush (bot.db.keyed)": contextlib.nullcontext,
}


async def main(url: str | None) -> None:
    """Interleaved rounds; print the table."""
    with tempfile.TemporaryDirectory() as directory:
        database = Database(url or f"sqlite+aiosqlite:///{directory}/bench.db")
        incident_id = await setup(database)
        times: dict[str, list[float]] = {name: [] for name in WAYS}
        for round_number in range(ROUNDS):
            for name, way in WAYS.items():
                with way():
                    for _ in range(CALLS):
                        start = time.perf_counter()
                        await a_report(database, incident_id)
                        if round_number:
                            times[name].append(time.perf_counter() - start)
        await database.close()
    where = "SQLite" if url is None else url.split(":", 1)[0]
    print(f"A report's 10 new rows and their commit, {where}, {ROUNDS - 1} × {CALLS} each")
    print("insert | p50 ms | p99 ms | p50 vs ORM")
    print("--- | --- | --- | ---")
    base = statistics.median(times["ORM unit of work"])
    for name, values in times.items():
        ordered = sorted(values)
        p50, p99 = statistics.median(values), ordered[int(0.99 * len(ordered))]
        print(f"{name} | {p50 * 1000:.2f} | {p99 * 1000:.2f} | {p50 / base:.2f}×")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else None))
