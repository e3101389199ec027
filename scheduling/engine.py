"""The deadline engine: claims what has fallen due and fires it, exactly once.

Claim and fire are one transaction per deadline: a conditional update ``pending → fired``
(with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL when picking rows), then the firing's effects
(timeline events, outbox messages, the next deadlines) — so two engines, a retry or a restart
never fire a deadline twice, and a crash mid-way leaves it pending to fire again.

The JobQueue (APScheduler) is only the alarm clock: a timer for the next due deadline plus a
periodic sweep, re-armed from the database on start and whenever deadlines change; deadlines
that fell due while the bot was down fire at the first tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import Database
from bot.db.models import Deadline
from scheduling.clock import Clock
from scheduling.deadlines import FIRED, PENDING

log = logging.getLogger(__name__)

Firer = Callable[[AsyncSession, Deadline, datetime], Awaitable[None]]
SWEEP_SECONDS = 1.0
BATCH = 200


class Engine:
    """Fires due deadlines through the firer registered for their kind."""

    def __init__(self, database: Database, clock: Clock, firers: dict[str, Firer]) -> None:
        self.database = database
        self.clock = clock
        self.firers = firers
        self._lock = asyncio.Lock()
        self._job_queue: Any = None
        self._timer: Any = None
        self.on_fired: Callable[[], None] = lambda: None

    async def tick(self) -> int:
        """Fire everything due now; return how many fired. Safe to call at any time."""
        async with self._lock:
            fired = 0
            while True:
                now = self.clock.now()
                due = await self._due_ids(now)
                if not due:
                    break
                for deadline_id in due:
                    fired += await self._fire_one(deadline_id, now)
                if len(due) < BATCH:
                    break
            if fired:
                self.on_fired()
            return fired

    async def _due_ids(self, now: datetime) -> list[int]:
        query = (
            select(Deadline.id)
            .where(Deadline.state == PENDING, Deadline.due_at <= now)
            .order_by(Deadline.due_at, Deadline.id)
            .limit(BATCH)
        )
        async with self.database.sessions() as session:
            return list(await session.scalars(query))

    async def _fire_one(self, deadline_id: int, now: datetime) -> int:
        try:
            async with self.database.transaction() as session:
                query = select(Deadline).where(
                    Deadline.id == deadline_id, Deadline.state == PENDING
                )
                if self.database.is_postgresql:
                    query = query.with_for_update(skip_locked=True)
                deadline = await session.scalar(query)
                if deadline is None:
                    return 0  # met, cancelled, or another engine has it
                claimed = await session.execute(
                    update(Deadline)
                    .where(Deadline.id == deadline_id, Deadline.state == PENDING)
                    .values(state=FIRED, fired_at=now)
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    return 0
                await session.refresh(deadline)
                firer = self.firers.get(deadline.kind)
                if firer is not None:
                    await firer(session, deadline, now)
                else:
                    log.error("no firer for deadline kind %s", deadline.kind)
            return 1
        except Exception:
            log.exception("firing deadline %s failed; it stays pending", deadline_id)
            return 0

    async def next_due(self) -> datetime | None:
        """When the next pending deadline falls due."""
        async with self.database.sessions() as session:
            value: datetime | None = await session.scalar(
                select(func.min(Deadline.due_at)).where(Deadline.state == PENDING)
            )
            return value

    # --- the alarm clock -------------------------------------------------------------------
    def arm(self, job_queue: Any) -> None:
        """Start the periodic sweep and the timer for the next deadline."""
        self._job_queue = job_queue
        job_queue.run_repeating(
            self._job, interval=SWEEP_SECONDS, first=0, name="dutybot-deadline-sweep"
        )

    def changed(self) -> None:
        """Deadlines were added or moved: fire what is due now and re-arm the timer."""
        if self._job_queue is not None:
            self._job_queue.run_once(self._job, when=0, name="dutybot-deadline-now")

    async def _job(self, context: Any) -> None:
        await self.tick()
        await self._rearm()

    async def _rearm(self) -> None:
        if self._job_queue is None:
            return
        due = await self.next_due()
        if self._timer is not None:
            with contextlib.suppress(JobLookupError):  # it may have run already
                self._timer.schedule_removal()
            self._timer = None
        if due is None:
            return
        delay = max(0.0, (due - self.clock.now()).total_seconds())
        self._timer = self._job_queue.run_once(
            self._job, when=timedelta(seconds=delay), name="dutybot-deadline-timer"
        )
