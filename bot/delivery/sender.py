"""The sender: claims due outbox rows, sends them within Telegram's limits, records outcomes.

One asyncio task per process. It wakes when a transaction queued something (``wake``), when a
paced chat becomes ready, and at least every ``sweep_interval`` (to pick up rows written by other
processes and claims of a sender that died). Network errors and 5xx are retried with backoff,
``retry_after`` is honoured, 403 marks the person unreachable, and "message is not modified"
counts as done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.db.engine import Database
from bot.delivery import birth, outbox
from bot.delivery.outbox import DOCUMENT, EDIT, PHOTO, Claimed, utcnow
from bot.delivery.pacing import Pacer

log = logging.getLogger(__name__)

# How long the most urgent of the messages a transaction queued goes out alone before the rest
# follow: about one request's preparation (on loopback it is done sooner, and the rest follow it)
UndeliverableListener = Callable[[Claimed, str], Awaitable[None]]
# Told of every Bot API call the sender makes: the error it raised (None: it succeeded), seconds.
SendObserver = Callable[[BaseException | None, float], None]


def retry_after_seconds(error: RetryAfter) -> float:
    """``retry_after`` in seconds, whichever type this python-telegram-bot version returns."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def markup_from(data: dict[str, Any] | None, bot: Bot) -> Any:
    """Rebuild stored reply markup: inline buttons, a reply keyboard, or its removal."""
    if not data:
        return None
    if "inline_keyboard" in data:
        return InlineKeyboardMarkup.de_json(data, bot)
    if "keyboard" in data:
        return ReplyKeyboardMarkup.de_json(data, bot)
    if data.get("remove_keyboard"):
        return ReplyKeyboardRemove.de_json(data, bot)
    return None


def backoff(attempts: int) -> float:
    """Seconds to wait after a transient failure: 0.5, 1, 2 … capped at 30, with jitter."""
    return float(min(30.0, 0.5 * 2.0 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2))


class Sender:
    """Delivers the outbox: ``start()`` after the bot is initialised, ``stop()`` before shutdown."""

    def __init__(
        self,
        database: Database,
        bot: Bot,
        pacer: Pacer | None = None,
        *,
        concurrency: int = 32,
        batch: int = 200,
        lease: timedelta = timedelta(seconds=30),
        sweep_interval: float = 1.0,
    ) -> None:
        self.database = database
        self.bot = bot
        self.pacer = pacer or Pacer()
        self.batch = batch
        self.lease = lease
        self.sweep_interval = sweep_interval
        self.undeliverable_listeners: list[UndeliverableListener] = []
        self.send_observers: list[SendObserver] = []
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = False

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next sweep."""
        self._wake.set()

    def start(self) -> None:
        """Start the delivery loop, and claim rows at birth (``bot.delivery.birth``)."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="dutybot-sender")
        birth.attach(
            self.database,
            birth.Midwife(self.pacer, self.lease, self.take, time.monotonic, self.wake),
        )

    def take(self, items: list[Claimed]) -> asyncio.Task[None] | None:
        """Rows claimed at birth, committed just now, most urgent first: send them (their chats
        are reserved). The first goes out alone for a moment (``HEAD_START``): started together,
        every request's preparation would run before the first reached the network. Returns
        the first one's sending."""
        if not items:
            return None
        head = self._track(self._deliver_born(items[0]))
        if len(items) > 1:
            self._track(self._deliver_after(head, items[1:]))
        return head

    def _track(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return task

    async def _deliver_after(self, head: asyncio.Task[None], items: list[Claimed]) -> None:
        await asyncio.wait({head}, timeout=birth.HEAD_START)
        await asyncio.gather(*(self._deliver_born(item) for item in items))

    async def _deliver_born(self, item: Claimed) -> None:
        await self._slots.acquire()
        await self._deliver(item)

    async def stop(self) -> None:
        """Stop claiming; let sends in flight finish (their rows are recorded)."""
        self._stopping = True
        birth.detach(self.database)
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=15)

    async def _run(self) -> None:
        last_sweep = 0.0
        while not self._stopping:
            self._wake.clear()
            try:
                now = time.monotonic()
                if now - last_sweep >= self.sweep_interval:
                    async with self.database.transaction() as session:
                        released = await outbox.release_expired_claims(session, utcnow())
                    if released:
                        log.warning("re-queued %d messages whose sender stopped mid-send", released)
                    last_sweep = now
                wait = await self._dispatch_due()
            except Exception:  # the loop must outlive any single failure
                log.exception("outbox sender cycle failed")
                wait = self.sweep_interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.005, wait))

    async def _dispatch_due(self) -> float:
        """Claim what may go out now and send it; return how long to sleep before looking again."""
        now_wall = utcnow()
        now = time.monotonic()
        next_look = self.sweep_interval
        if self.pacer.overall_ready_at(now) > now:
            return self.pacer.overall_ready_at(now) - now
        async with self.database.transaction() as session:
            heads = await outbox.due_heads(
                session, now_wall, self.batch, lock=self.database.is_postgresql
            )
            chosen = []
            for row in heads:
                ready = self.pacer.ready_at(row.chat_id, now)
                if ready <= now:
                    chosen.append(row)
                    self.pacer.reserve(row.chat_id)
                else:
                    next_look = min(next_look, ready - now)
            claimed = await outbox.claim(session, chosen, now_wall, self.lease)
        for lost in {row.chat_id for row in chosen} - {item.chat_id for item in claimed}:
            self.pacer.done(lost, time.monotonic())  # another sender took it
        for item in claimed:
            await self._slots.acquire()
            task = asyncio.create_task(self._deliver(item))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        if len(heads) >= self.batch:
            next_look = 0.0
        return next_look

    async def _deliver(self, item: Claimed) -> None:
        try:
            await self._send_and_record_paced(item)
        except Exception as error:  # a bug must not leave the row claimed until the lease ends
            log.exception("delivering outbox row %s failed", item.id)
            try:
                await self._record_retry(item, backoff(item.attempts), f"bug: {error!r}")
            except Exception:
                log.exception("could not re-queue outbox row %s", item.id)
        finally:
            self._slots.release()
            self._wake.set()

    async def _send_and_record_paced(self, item: Claimed) -> None:
        try:
            await self._send_and_record(item)
        finally:
            self.pacer.done(item.chat_id, time.monotonic())

    async def _call(self, item: Claimed) -> Message | bool:
        markup = markup_from(item.reply_markup, self.bot)
        if item.method == EDIT:
            if item.edit_message_id is None:
                raise BadRequest("the message to edit was never delivered")
            return await self.bot.edit_message_text(
                item.text,
                chat_id=item.chat_id,
                message_id=item.edit_message_id,
                reply_markup=markup,
            )
        if item.method == PHOTO and item.photo is not None:
            photo = (
                InputFile(item.photo, filename="image.png")
                if isinstance(item.photo, bytes)
                else item.photo
            )
            return await self.bot.send_photo(
                item.chat_id, photo, caption=item.text or None, reply_markup=markup
            )
        if item.method == DOCUMENT and item.photo is not None:
            return await self.bot.send_document(
                item.chat_id,
                InputFile(item.photo, filename=item.filename or "document")
                if isinstance(item.photo, bytes)
                else item.photo,
                caption=item.text or None,
                reply_markup=markup,
            )
        return await self.bot.send_message(item.chat_id, item.text, reply_markup=markup)

    async def _observed_call(self, item: Claimed) -> Message | bool:
        started = time.monotonic()
        error: BaseException | None = None
        try:
            return await self._call(item)
        except BaseException as raised:
            error = raised
            raise
        finally:
            for observe in self.send_observers:
                try:
                    observe(error, time.monotonic() - started)
                except Exception:
                    log.exception("a send observer failed")

    async def _send_and_record(self, item: Claimed) -> None:
        try:
            result = await self._observed_call(item)
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            self.pacer.block(item.chat_id, time.monotonic() + seconds)
            await self._record_retry(item, seconds, f"429 retry after {seconds:g}s")
            return
        except Forbidden as error:
            await self._record_undeliverable(item, f"403 {error.message}")
            return
        except BadRequest as error:
            if "not modified" in error.message.lower():
                await self._record_sent(item, item.edit_message_id)
            else:
                log.error("Telegram refused outbox row %s: %s", item.id, error.message)
                async with self.database.transaction() as session:
                    await outbox.mark_failed(session, item.id, f"400 {error.message}")
            return
        except (NetworkError, TelegramError) as error:
            await self._record_retry(
                item, backoff(item.attempts), f"{type(error).__name__}: {error}"
            )
            return
        message_id = result.message_id if isinstance(result, Message) else item.edit_message_id
        await self._record_sent(item, message_id)

    async def _record_sent(self, item: Claimed, message_id: int | None) -> None:
        async with self.database.transaction() as session:
            await outbox.mark_sent(session, item.id, message_id, utcnow())

    async def _record_retry(self, item: Claimed, seconds: float, error: str) -> None:
        log.info(
            "outbox row %s to %s: %s; retrying in %.1fs", item.id, item.chat_id, error, seconds
        )
        async with self.database.transaction() as session:
            await outbox.mark_retry(session, item.id, utcnow() + timedelta(seconds=seconds), error)

    async def _record_undeliverable(self, item: Claimed, error: str) -> None:
        log.warning("chat %s cannot be messaged: %s", item.chat_id, error)
        async with self.database.transaction() as session:
            await outbox.mark_failed(session, item.id, error)
        for listener in self.undeliverable_listeners:
            try:
                await listener(item, error)
            except Exception:
                log.exception("an undeliverable-message listener failed")
