"""The deadline engine: claims what has fallen due and fires it, exactly once.

Claim and fire are one transaction per batch of deadlines: a conditional update ``pending → fired``
(with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL when picking rows), then the firing's effects
(timeline events, outbox messages, the next deadlines) — so two engines, a retry or a restart
never fire a deadline twice, and a crash mid-way leaves it pending to fire again.

Most urgent first: what is due is claimed in the order of ``Urgency`` (the kind's rank, then the
rank of the subject incident's level, then when it fell due), so that after an outage the
missed accepts and flash reports of level I go out before follow-up reminders. Only when
something is due does a claim write: a look that finds nothing takes no write lock.

A firer with a slow part (drawing a chart) is ``Prepared``: its part that needs no database
runs first, outside any transaction, on the row as read; then the row is claimed and the rest
fires in the claim's transaction. A crash or a failure before the claim leaves the row pending
(it is prepared again); two engines may both prepare it, only one claims it.

The JobQueue (APScheduler) is only the alarm clock: a timer for the next due deadline plus a
periodic sweep, re-armed from the database on start and whenever deadlines change; deadlines
that fell due while the bot was down fire at the first tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from apscheduler.jobstores.base import JobLookupError
from sqlalchemy import Select, any_, bindparam, case, func, literal, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import Database
from bot.db.models import Deadline, IncidentRow
from scheduling import watch
from scheduling.clock import Clock
from scheduling.rows import FIRED, PENDING

log = logging.getLogger(__name__)

Firer = Callable[[AsyncSession, Deadline, datetime], Awaitable[None]]
SWEEP_SECONDS = 1.0
BATCH = 1000
# A change is looked at this long after its commit, once however many commits came meanwhile:
# off the path of the messages the change queued (the deadlines it adds are minutes away; one
# due at once is still fired well within the lateness bound).
CHANGE_DELAY = 0.02


@dataclass(frozen=True)
class Urgency:
    """The order in which due deadlines are claimed: by the rank of their kind, then by the rank
    of their incident's level (lower first; unknown kinds and levels last), then by due time."""

    kinds: Mapping[str, int] = field(default_factory=dict)
    levels: Mapping[str, int] = field(default_factory=dict)

    def due_query(self, lock: bool, excluded: Collection[str] = ()) -> Select[Any]:
        """The ids of up to ``limit`` deadlines due at ``now``, most urgent first (locked, and
        skipping rows another engine holds, with ``lock``), leaving out ``excluded`` kinds."""
        order: list[Any] = []
        if self.kinds:
            order.append(case(self.kinds, value=Deadline.kind, else_=len(self.kinds)))
        query = select(Deadline.id).where(
            Deadline.state == PENDING,
            Deadline.due_at <= bindparam("now"),
            Deadline.kind.not_in(excluded) if excluded else true(),
        )
        if self.levels:
            level = (
                select(IncidentRow.level)
                .where(IncidentRow.id == Deadline.incident_id)
                .scalar_subquery()
            )
            order.append(case(self.levels, value=level, else_=literal(len(self.levels))))
        query = query.order_by(*order, Deadline.due_at, Deadline.id).limit(bindparam("limit"))
        if lock:
            query = query.with_for_update(skip_locked=True)
        return query


T = TypeVar("T")


@dataclass(frozen=True)
class Prepared(Generic[T]):
    """A firer in two parts: ``prepare`` gets the due row (read in a session already closed)
    and the moment, holds no transaction and may take its time; ``fire`` then runs in the
    claim's transaction with what ``prepare`` returned."""

    prepare: Callable[[Deadline, datetime], Awaitable[T]]
    fire: Callable[[AsyncSession, Deadline, datetime, T], Awaitable[None]]


class _BatchFailed(Exception):
    """A firing failed in a batch: fire the batch's deadlines again one at a time."""

    def __init__(self, ids: list[int]) -> None:
        super().__init__(f"a firing failed in a batch of {len(ids)}")
        self.ids = ids


class Engine:
    """Fires due deadlines through the firer registered for their kind."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        firers: Mapping[str, Firer | Prepared[Any]],
        urgency: Urgency | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.firers = {k: f for k, f in firers.items() if not isinstance(f, Prepared)}
        self.prepared = {k: f for k, f in firers.items() if isinstance(f, Prepared)}
        self._due = (urgency or Urgency()).due_query(database.is_postgresql, list(self.prepared))
        self._lock = asyncio.Lock()
        self._job_queue: Any = None
        self._timer: Any = None
        self._change_looming = False
        self.on_fired: Callable[[], None] = lambda: None

    async def tick(self) -> int:
        """Fire everything due now; return how many fired. Safe to call at any time."""
        async with self._lock:
            fired, failed = 0, set[int]()
            while True:
                now = self.clock.now()
                done, batch = await self._fire_batch(now, failed)
                fired += done
                if batch >= BATCH:
                    continue
                # one prepared row at a time, then the plain ones again: what falls due while
                # a chart is drawn waits for one chart, not for all of them
                done, found = await self._fire_prepared(self.clock.now(), failed)
                fired += done
                if not found:
                    break
            if fired:
                self.on_fired()
            return fired

    async def _fire_batch(self, now: datetime, failed: set[int]) -> tuple[int, int]:
        """Claim up to ``BATCH`` due deadlines with one conditional update and fire them in the
        same transaction. If a firing fails, the batch is rolled back and its deadlines fired
        again one transaction each, so that only the failing one is put back (to fire again
        at the next tick). Returns (fired, claimed)."""
        try:
            return await self._claim_and_fire(now, failed)
        except _BatchFailed as error:
            fired = 0
            for deadline_id in error.ids:
                fired += await self._fire_alone(now, deadline_id, failed)
            return fired, len(error.ids)

    async def _claim_and_fire(self, now: datetime, failed: set[int]) -> tuple[int, int]:
        async with self.database.transaction() as session:
            limit = BATCH + len(failed)
            found = await session.scalars(self._due, {"now": now, "limit": limit})
            due = [i for i in found if i not in failed][:BATCH]
            if not due:  # nothing due: no write, so no write lock taken
                return 0, 0
            rank = {deadline_id: n for n, deadline_id in enumerate(due)}
            claimed = await self._claim(session, due, now)
            for deadline in sorted(claimed, key=lambda d: rank[d.id]):
                try:
                    await self._fire(session, deadline, now)
                except Exception as error:
                    raise _BatchFailed(due) from error
        return len(claimed), len(due)

    async def _fire_alone(self, now: datetime, deadline_id: int, failed: set[int]) -> int:
        """Claim and fire one deadline in its own transaction; a failure puts it back."""
        try:
            async with self.database.transaction() as session:
                claimed = await self._claim(session, [deadline_id], now)
                for deadline in claimed:
                    await self._fire(session, deadline, now)
            return len(claimed)
        except Exception:
            log.exception("firing deadline %s failed; it will fire again", deadline_id)
            failed.add(deadline_id)
            return 0

    async def _claim(self, session: AsyncSession, ids: list[int], now: datetime) -> list[Deadline]:
        """pending → fired for those of ``ids`` still pending (another engine may have won).
        On PostgreSQL the ids go as one array parameter (``= ANY``): a thousand placeholders
        cost more to render and parse than the update itself."""
        # its own firing needs no look afterwards: ``_job`` re-arms after every tick
        await watch.mute(session)
        chosen = (
            Deadline.id == any_(bindparam("ids", ids, type_=ARRAY(Deadline.id.type)))
            if self.database.is_postgresql
            else Deadline.id.in_(ids)
        )
        result = await session.scalars(
            update(Deadline)
            .where(chosen, Deadline.state == PENDING)
            .values(state=FIRED, fired_at=now)
            .returning(Deadline),
            execution_options={"synchronize_session": False},
        )
        return list(result)

    async def _fire_prepared(self, now: datetime, failed: set[int]) -> tuple[int, bool]:
        """Prepare the first due row of a prepared kind with no session open, then claim it
        and fire it in one short transaction. Returns (fired, whether a row was found)."""
        if not self.prepared:
            return 0, False
        async with self.database.sessions() as session:
            row = await session.scalar(
                select(Deadline)
                .where(
                    Deadline.state == PENDING,
                    Deadline.due_at <= now,
                    Deadline.kind.in_(self.prepared),
                    Deadline.id.not_in(failed) if failed else true(),
                )
                .order_by(Deadline.due_at, Deadline.id)
                .limit(1)
            )
        if row is None:
            return 0, False
        firer = self.prepared[row.kind]
        try:
            made = await firer.prepare(row, now)
            async with self.database.transaction() as session:
                claimed = await self._claim(session, [row.id], now)
                if not claimed:  # another engine fired it meanwhile
                    return 0, True
                await firer.fire(session, claimed[0], now, made)
        except Exception:
            log.exception("firing deadline %s failed; it will fire again", row.id)
            failed.add(row.id)
            return 0, True
        return 1, True

    async def _fire(self, session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        firer = self.firers.get(deadline.kind)
        if firer is None:
            log.error("no firer for deadline kind %s", deadline.kind)
            return
        await firer(session, deadline, now)

    async def next_due(self) -> datetime | None:
        """When the next pending deadline falls due."""
        async with self.database.sessions() as session:
            value: datetime | None = await session.scalar(
                select(func.min(Deadline.due_at)).where(Deadline.state == PENDING)
            )
            return value

    # --- the alarm clock -------------------------------------------------------------------
    def arm(self, job_queue: Any) -> None:
        """Start the periodic sweep and the timer for the next deadline, and look a moment
        after every commit that writes deadlines (``scheduling.watch``)."""
        self._job_queue = job_queue
        watch.watch(self.database.engine.sync_engine, self.changed)
        job_queue.run_repeating(
            self._job, interval=SWEEP_SECONDS, first=0, name="dutybot-deadline-sweep"
        )

    def disarm(self) -> None:
        """Stop the alarm clock at once: this process no longer fires (leadership lost, or
        stopping). A tick already running finishes; its claims are transactional."""
        watch.unwatch(self.database.engine.sync_engine)
        job_queue, self._job_queue = self._job_queue, None
        self._timer = None
        self._change_looming = False
        if job_queue is None:
            return
        for job in job_queue.jobs():
            if str(job.name).startswith("dutybot-deadline"):
                with contextlib.suppress(JobLookupError):
                    job.schedule_removal()

    def changed(self) -> None:
        """Deadlines were added or moved: in a moment (``CHANGE_DELAY``), fire what is due and
        re-arm the timer."""
        if self._job_queue is None or self._change_looming:
            return
        self._change_looming = True
        # the job is added when it is due, not here: this is called inside a commit, on the
        # path of the messages that commit hands to the sender, and adding a job costs more
        # than a plain timer
        asyncio.get_running_loop().call_later(CHANGE_DELAY, self._add_look)

    def _add_look(self) -> None:
        if self._job_queue is None:  # disarmed meanwhile
            self._change_looming = False
            return
        self._job_queue.run_once(self._look_at_change, when=0, name="dutybot-deadline-now")

    async def _look_at_change(self, context: Any) -> None:
        self._change_looming = False  # a change committed from now on asks for a look of its own
        await self._job(context)

    async def _job(self, context: Any) -> None:
        if self._job_queue is None:  # disarmed
            return
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
        if due is None or self._job_queue is None:  # disarmed meanwhile
            return
        delay = max(0.0, (due - self.clock.now()).total_seconds())
        self._timer = self._job_queue.run_once(
            self._job, when=timedelta(seconds=delay), name="dutybot-deadline-timer"
        )
