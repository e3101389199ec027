"""Long polling into the inbox: fetch, handle or store the batch, and only then confirm it (the
next ``getUpdates`` offset).

Until a polling run has drained what was waiting for it (a batch shorter than Telegram's limit
of 100), each batch is stored, then handled: it may hold updates an earlier process or the
webhook fetched, stored or handled (the store tells). After that, batches are new to every
process: they are handled at once, and what is still being handled when the poller confirms
them is stored first (``Dispatcher.take`` and ``keep``). The
confirming fetch waits, briefly, for the batch's handling: a fetch costs the process a
millisecond or two, which a report's transaction and its alert should not share, and Telegram
keeps what arrives meanwhile for that next fetch. Network failures back off and retry with one
log line each; a rejected token ends the intake through ``on_fatal`` (a deaf process helps
nobody)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from bot.db.engine import Database
from bot.inbox.dispatch import Dispatcher
from bot.inbox.store import Received, store
from scheduling.tasks import PATIENCE, Stretches, cancel_and_join

log = logging.getLogger(__name__)
# the most the next fetch waits for the batch's handling (a slow command, say a
# ``/status`` over thousands of incidents, does not hold up everyone else's updates longer)
NEXT_FETCH_WAITS = 0.1
BATCH_LIMIT = 100  # the most updates one getUpdates returns (Telegram's own limit)


def received(update: Update, payload: dict[str, Any] | None = None) -> Received:
    """An update as the inbox takes it: parsed, with its raw JSON when at hand (``payload``;
    else made from the parsed update only if it is stored), and the chat (or user) whose order
    it keeps."""
    chat, user = update.effective_chat, update.effective_user
    key = chat.id if chat is not None else user.id if user is not None else None
    message = update.message
    message_id = message.message_id if message is not None else None
    return Received(update.update_id, key, payload, message_id, parsed=update)


class Poller:
    """Fetches updates with ``getUpdates`` and has each batch handled or stored before
    confirming it."""

    def __init__(
        self,
        bot: Bot,
        database: Database,
        *,
        timeout: int,
        allowed_updates: Sequence[str],
        dispatcher: Dispatcher,
        on_fatal: Callable[[BaseException], None],
    ) -> None:
        self.bot = bot
        self.database = database
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates)
        self.dispatcher = dispatcher
        self.on_fatal = on_fatal
        self.offset = 0
        self.settled = False  # what was waiting has been drained: later batches are new
        self.failures = 0
        self._task: asyncio.Task[None] | None = None
        self._transactions = Stretches()  # a stop lets a store under way end

    def start(self) -> None:
        """Start polling."""
        self._task = asyncio.create_task(self._run(), name="dutybot-polling")

    async def stop(self) -> None:
        """Stop polling (an unconfirmed batch is fetched again by the next poller)."""
        task, self._task = self._task, None
        if task is not None:
            await self._transactions.between(PATIENCE)
            await cancel_and_join(task)

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_once()
                self.failures = 0
            except InvalidToken as error:
                log.critical("Telegram rejected the bot token (%s): stopping", error)
                self.on_fatal(error)
                return
            except (TelegramError, SQLAlchemyError, OSError) as error:
                self.settled = False  # what comes back next may have been fetched before
                await asyncio.sleep(self._backoff(error))

    async def poll_once(self) -> None:
        """One round: fetch (confirming the previous batch), then handle or store the batch."""
        updates = await self.bot.get_updates(
            offset=self.offset,
            limit=BATCH_LIMIT,
            timeout=self.timeout,
            allowed_updates=self.allowed_updates,
        )
        if updates:
            batch = [received(u) for u in updates]
            dispatcher = self.dispatcher
            if self.settled and dispatcher.take(batch):
                await dispatcher.handled(batch, NEXT_FETCH_WAITS)
                async with self._transactions.inside():
                    await dispatcher.keep(batch)
            else:
                async with self._transactions.inside():
                    batch = await store(self.database, batch)
                dispatcher.offer(batch)
                await dispatcher.handled(batch, NEXT_FETCH_WAITS)
            self.offset = max(u.update_id for u in updates) + 1
        if len(updates) < BATCH_LIMIT:
            # Telegram had nothing more waiting: whatever comes next arrived after this fetch,
            # so it is new to every process. A full batch proves nothing: behind it may wait an
            # update a webhook stored (its acknowledgement lost) or an earlier process handled.
            self.settled = True

    def _backoff(self, error: BaseException) -> float:
        self.failures += 1
        if isinstance(error, RetryAfter):
            retry = error.retry_after
            delay = retry if isinstance(retry, int | float) else retry.total_seconds()
        else:
            delay = min(30.0, 0.5 * 2.0 ** (self.failures - 1)) * random.uniform(0.8, 1.2)
        what = (
            "another process is fetching updates or a webhook is set"
            if isinstance(error, Conflict)
            else "cannot fetch updates"
        )
        log.warning("%s (%s: %s); retrying in %.1fs", what, type(error).__name__, error, delay)
        return float(delay)

    async def confirm(self) -> None:
        """Tell Telegram the last stored batch arrived (best effort, on a clean stop)."""
        if self.offset:
            with contextlib.suppress(TelegramError):
                await self.bot.get_updates(offset=self.offset, timeout=0, limit=1)
