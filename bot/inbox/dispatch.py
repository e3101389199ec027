"""Handling the inbox: updates of one chat one after another, different chats side by side.

The loader takes the oldest unhandled rows from the table; each chat has a queue and at most one
worker; at most ``concurrency`` updates are handled at once. Rows just stored by this process are
handed over directly (``offer``) once the table has been read up to them, rather than found
again by a query. A row is marked done only after its handling returned — in batches, a moment
later, off the path of the messages it queued — so a crash leaves it to be handled again at the
next start (the ``processed_updates`` record makes a replay of an already committed update
change nothing).

Once polling is settled, a fetched batch is handled before it is stored (``take``): Telegram
keeps an update until it is confirmed, so an update handled before its confirmation needs no
row, and the report's alert does not wait for the inbox's own transaction. Only what is still
being handled when the poller confirms is stored (``keep``), and marked done when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from sqlalchemy.exc import SQLAlchemyError

from bot.db.engine import Database
from bot.inbox.store import Received, mark_done, pending, prune, store
from scheduling.tasks import PATIENCE, Stretches, cancel_and_join

log = logging.getLogger(__name__)

Handle = Callable[[Received], Awaitable[None]]
ATTEMPTS = 3  # an update whose handling itself crashes is tried this often, then set aside
QUEUED_MAX = 1000  # rows loaded into memory at most
GRACE = 15.0  # seconds the updates being handled get to finish at a stop
DONE_DELAY = 0.05  # handled rows are marked done together, this long after the first one
PRUNE_EVERY = 3600.0  # seconds between two prunes of old handled rows, each at an idle moment
PRUNE_CHUNK = 1000  # rows forgotten per transaction


class Dispatcher:
    """Feeds stored updates to ``handle`` in order per chat, ``concurrency`` at a time."""

    def __init__(
        self, database: Database, handle: Handle, *, concurrency: int = 16, sweep: float = 1.0
    ) -> None:
        self.database = database
        self.handle = handle
        self.sweep = sweep
        self._slots = asyncio.Semaphore(concurrency)
        self._queues: dict[int, deque[Received]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._scheduled: set[int] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._caught_up = False  # the last load read every unhandled row of the table
        self._done: list[int] = []  # handled, not yet marked done
        self._done_wake = asyncio.Event()
        self._marker: asyncio.Task[None] | None = None
        self._marking = Stretches()  # a stop lets a marking under way end
        self._handling: set[int] = set()  # scheduled, handling not yet returned
        self._progress = asyncio.Event()  # set whenever one returns
        self._unstored: set[int] = set()  # taken before storing, and not stored since
        self._keeping = asyncio.Lock()  # a marking waits for the late rows being stored
        self._open = asyncio.Event()  # cleared while late rows are stored: no handling starts
        self._open.set()
        self._prune_at = 0.0  # the monotonic time from which the next idle moment prunes

    def wake(self) -> None:
        """New rows were stored: look now."""
        self._wake.set()

    def _can_take(self, count: int) -> bool:
        """Tell whether ``count`` new updates can be handled without the loader: once it has
        read the table up to them, so that each chat keeps its order, and while there is room."""
        return (
            self._task is not None
            and not self._stopping
            and self._caught_up
            and len(self._scheduled) + count <= QUEUED_MAX
        )

    def offer(self, items: Sequence[Received]) -> None:
        """Rows this process just stored (committed): handle them without reading them back."""
        if not self._can_take(len(items)):
            self._wake.set()
            return
        self._schedule(items)

    def take(self, items: Sequence[Received]) -> bool:
        """Handle ``items``, fetched and not stored, at once. ``False``: they cannot be taken
        now; store them first.

        Their update ids are new to every process (until the poller has drained what was
        waiting when it started, which may come back from an earlier process or the webhook,
        it stores its batches instead), so an update without a message is
        known never handled. A new message is not: a proxy or webhook retry can bring it
        again under a new update id, and the gate asks the database."""
        if not self._can_take(len(items)):
            return False
        new = [
            replace(item, fresh=item.message_id is None, new_id=True)
            for item in items
            if item.update_id not in self._scheduled
        ]
        self._unstored.update(item.update_id for item in new)
        self._schedule(new)
        return True

    async def keep(self, items: Sequence[Received]) -> None:
        """Store those of ``items`` (taken unstored) whose handling has not returned yet, before
        the poller confirms them; they are marked done when it does."""
        late = [item for item in items if item.update_id in self._unstored]
        self._unstored.difference_update(item.update_id for item in late)
        if not late:
            return
        # No handling starts meanwhile: on SQLite the store waits for the write lock, and with
        # new handlers taking it in turn it could wait for the whole batch, holding back the
        # confirmation and with it everyone's next updates; now it waits for those under way.
        self._open.clear()
        try:
            async with self._keeping:
                await store(self.database, late)
        finally:
            self._open.set()

    async def handled(self, items: Sequence[Received], at_most: float) -> None:
        """Wait until ``items`` have been handled (each attempt returned), at most ``at_most``
        seconds."""
        ids = {item.update_id for item in items}
        # ``asyncio.timeout``, not ``wait_for``: on Python 3.11 the latter can swallow a cancel
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(at_most):
                while ids & self._handling:
                    self._progress.clear()
                    await self._progress.wait()

    def start(self) -> None:
        """Start loading and handling."""
        self._stopping = False
        self._caught_up = False
        self._task = asyncio.create_task(self._load_loop(), name="dutybot-inbox")
        self._marker = asyncio.create_task(self._mark_loop(), name="dutybot-inbox-done")

    async def stop(self) -> None:
        """Stop taking rows; let the updates being handled finish (up to ``GRACE`` seconds)."""
        self._stopping = True
        self._wake.set()
        self._open.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        workers = list(self._workers.values())
        if workers:
            _, late = await asyncio.wait(workers, timeout=GRACE)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        marker, self._marker = self._marker, None
        if marker is not None:
            await self._marking.between(PATIENCE)
            await cancel_and_join(marker)
        await self._mark_handled()
        self._queues.clear()
        self._workers.clear()
        self._scheduled.clear()
        self._handling.clear()
        self._unstored.clear()
        self._progress.set()

    async def _load_loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self._load()
            except (SQLAlchemyError, OSError) as error:
                log.warning("cannot read the inbox: %s: %s", type(error).__name__, error)
            await self._prune_when_idle()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.sweep)

    async def _load(self) -> None:
        room = QUEUED_MAX - len(self._scheduled)
        if room <= 0:
            self._caught_up = False
            return
        found = await pending(self.database, self._scheduled, room)
        self._schedule(found)
        self._caught_up = len(found) < room

    async def _prune_when_idle(self) -> None:
        """Forget old handled rows, at most once an hour, a chunk at a time, and only while
        nothing is being handled (a chunk under way finishes): on SQLite a delete waits its
        turn for the write lock, and on the poller's or a handler's path it would hold up the
        next fetch or a report's alert. What is left waits for the next idle moment."""
        if time.monotonic() < self._prune_at:
            return
        while not (self._stopping or self._handling or not self._caught_up):
            try:
                forgotten = await prune(self.database, at_most=PRUNE_CHUNK)
            except (SQLAlchemyError, OSError) as error:
                log.warning("cannot prune the inbox: %s: %s", type(error).__name__, error)
                forgotten = 0
            if forgotten < PRUNE_CHUNK:
                self._prune_at = time.monotonic() + PRUNE_EVERY
                return

    def _schedule(self, items: Sequence[Received]) -> None:
        for item in items:
            if item.update_id in self._scheduled:
                continue
            key = item.chat_id if item.chat_id is not None else -item.update_id - 2**62
            self._scheduled.add(item.update_id)
            self._handling.add(item.update_id)
            self._queues.setdefault(key, deque()).append(item)
            if key not in self._workers:
                self._workers[key] = asyncio.create_task(
                    self._work(key), name=f"dutybot-inbox-{key}"
                )

    async def _work(self, key: int) -> None:
        queue = self._queues[key]
        try:
            while queue and not self._stopping:
                item = queue[0]
                async with self._slots:
                    # past the slot: a worker already waiting for one must not start either
                    await self._open.wait()
                    await self._handle(item)
                queue.popleft()
                self._handling.discard(item.update_id)
                self._progress.set()
                if item.update_id in self._unstored:  # no row: nothing to mark
                    self._unstored.discard(item.update_id)
                    self._scheduled.discard(item.update_id)
                    continue
                self._done.append(item.update_id)  # stays scheduled until marked
                self._done_wake.set()
        finally:
            if self._workers.get(key) is asyncio.current_task():
                del self._workers[key]
                if not queue:
                    self._queues.pop(key, None)
                else:  # stopped: forget what was not handled; it stays in the table
                    for item in queue:  # an unstored one is not confirmed: Telegram keeps it
                        self._scheduled.discard(item.update_id)
                        self._handling.discard(item.update_id)
                        self._unstored.discard(item.update_id)
                    self._progress.set()
                    self._queues.pop(key, None)

    async def _handle(self, item: Received) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                # a retry asks the database again whether the failed attempt got far enough
                await self.handle(
                    item if attempt == 1 else replace(item, fresh=False, new_id=False)
                )
                return
            except Exception:
                log.exception("handling update %s failed (attempt %d)", item.update_id, attempt)
                if attempt < ATTEMPTS:
                    await asyncio.sleep(attempt)
        log.error("update %s set aside after %d failed attempts", item.update_id, ATTEMPTS)

    async def _mark_loop(self) -> None:
        """Mark handled rows done, a batch at a time, a moment after the first is handled (the
        messages it queued go out first)."""
        delay = 0.5
        while True:
            await self._done_wake.wait()
            await asyncio.sleep(DONE_DELAY)
            self._done_wake.clear()
            try:
                async with self._marking.inside():
                    await self._mark_handled()
                delay = 0.5
            except (SQLAlchemyError, OSError) as error:
                log.warning("cannot mark handled updates done: %s", error)
                self._done_wake.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _mark_handled(self) -> None:
        async with self._keeping:  # a row being stored late is marked after its commit
            await self._mark_stored()

    async def _mark_stored(self) -> None:
        done, self._done = self._done, []
        if not done:
            return
        try:
            await mark_done(self.database, done)
        except (SQLAlchemyError, OSError):
            if self._stopping:  # handled again at the next start; the replay changes nothing
                self._scheduled.difference_update(done)
                return
            self._done[:0] = done
            raise
        self._scheduled.difference_update(done)
