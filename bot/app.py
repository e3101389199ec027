"""The composition root: builds everything a running bot is made of and starts and stops it in
order.

settings and roster → database (migrated, roster synced) → Application (handlers registered,
persistence) → start: the Application, the webhook endpoint (webhook mode), then leadership →
while leading: sender, deadline engine with every domain's firers, command menus, intake
(``deleteWebhook`` + polling, or ``setWebhook``) and the inbox handlers → stop in reverse order.
Only this module and the CLI import ``handlers``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ContextTypes, Defaults

from bot import collector
from bot.db.engine import Checkpoints
from bot.delivery.outbox import Claimed
from bot.delivery.pacing import Limits, Pacer
from bot.delivery.sender import Sender
from bot.directives.scheduled import URGENCY_RANKS as DIRECTIVE_URGENCY
from bot.directives.scheduled import firers as directive_firers
from bot.directory import person_for_chat
from bot.duty.scheduled import ensure_shifts
from bot.duty.scheduled import firers as duty_firers
from bot.escalation.scheduled import URGENCY
from bot.escalation.scheduled import firers as escalation_firers
from bot.identity.flows import prepare_database
from bot.identity.service import mark_unreachable
from bot.inbox.dispatch import Dispatcher
from bot.inbox.polling import Poller
from bot.inbox.store import Received
from bot.observability import Metrics, TelegramReachability, readiness_check
from bot.persistence import SQLPersistence
from bot.reports.scheduled import firers as report_firers
from bot.runtime import RUNTIME_KEY, Runtime
from bot.supervision.scheduled import (
    BULLETIN,
    BULLETIN_CHART,
    bulletin_chart_firer,
    bulletin_firer,
    ensure_daily_bulletin,
)
from bot.telegram_http import AiohttpRequest
from bot.updates import Known
from handlers import register
from handlers.common.buttons import answers_after_handling
from handlers.common.context import DutyContext
from handlers.common.menus import publish_all_commands
from scheduling.engine import Engine, Firer, Prepared, Urgency
from scheduling.leader import AdvisoryLockLeadership, FileLock, Leadership, SoleProcess

if TYPE_CHECKING:
    from bot.inbox.webhook import WebhookServer
    from bot.observability.server import StatusServer

log = logging.getLogger(__name__)
AnyApplication = Application[Any, Any, Any, Any, Any, Any]
HANDLING_AT_ONCE = 16  # updates of different chats handled side by side

__all__ = ["DutyBot", "build_application", "prepare_database", "serve"]


def firer_registry(runtime: Runtime) -> dict[str, Firer | Prepared[Any]]:
    """Every deadline kind and the domain firer that handles it."""
    return {
        **escalation_firers(runtime),
        **report_firers(runtime),
        BULLETIN: bulletin_firer(runtime),
        BULLETIN_CHART: bulletin_chart_firer(runtime),
        **duty_firers(runtime),
        **directive_firers(runtime),
    }


def build_application(
    runtime: Runtime, requests: tuple[AiohttpRequest, AiohttpRequest]
) -> AnyApplication:
    """The python-telegram-bot Application with every handler registered (no Updater: updates
    come through the inbox), calling the Bot API through ``requests`` (for everything, for
    ``getUpdates``)."""
    settings = runtime.settings
    calls, polls = requests
    application = (
        Application.builder()
        .token(settings.require_token())
        .base_url(settings.telegram.base_url)
        .base_file_url(settings.telegram.base_file_url)
        .request(calls)
        .get_updates_request(polls)
        .defaults(Defaults(tzinfo=settings.timezone, block=True))
        .context_types(ContextTypes(context=DutyContext))
        .persistence(SQLPersistence(runtime.database))
        .updater(None)
        .build()
    )
    application.bot_data[RUNTIME_KEY] = runtime
    register(application)
    return application


def start_sender(runtime: Runtime, application: AnyApplication) -> Sender:
    """The outbox sender, paced to Telegram's limits, started."""
    limits = runtime.settings.delivery
    pacer = Pacer(
        Limits(limits.overall_per_second, 1.0 / limits.private_per_second, limits.group_per_minute)
    )
    sender = Sender(runtime.database, application.bot, pacer, lease=limits.claim_lease)
    sender.undeliverable_listeners.append(
        lambda item, reason: record_unreachable(runtime, item, reason)
    )
    sender.start()
    return sender


async def record_unreachable(runtime: Runtime, item: Claimed, reason: str) -> None:
    """A 403: the person behind the chat cannot be messaged until they write to the bot."""
    async with runtime.database.transaction() as session:
        person_id = item.person_id or await person_for_chat(session, runtime.roster, item.chat_id)
        if person_id is not None:
            await mark_unreachable(session, person_id, runtime.now(), reason)


def sqlite_lock(runtime: Runtime) -> FileLock | None:
    """The lock file next to a SQLite database (``None`` on PostgreSQL)."""
    url = make_url(runtime.database.url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return FileLock(Path(f"{url.database}.lock"))


class DutyBot:
    """One bot process: the Application for everyone, the duties (intake, handling, sending,
    firing) only while this process leads."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        # closed by ``stop`` even when the Application never finished initialising (Telegram
        # unreachable at start): python-telegram-bot closes them only after a full start
        self.requests = (AiohttpRequest(), AiohttpRequest(connection_pool_size=1))
        self.application = build_application(runtime, self.requests)
        self.fatal: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()
        self.dispatcher = Dispatcher(runtime.database, self._handle, concurrency=HANDLING_AT_ONCE)
        self.poller: Poller | None = None
        self.webhook: WebhookServer | None = None
        self.leadership: Leadership | None = None
        self.file_lock = sqlite_lock(runtime)
        self.led = asyncio.Event()  # set once this process has taken up the duties
        self.metrics = Metrics()
        self.telegram_reachable = TelegramReachability()
        self.status: StatusServer | None = None
        self.checkpoints = Checkpoints(runtime.database)
        self._started = False
        self._stopping = False

    @property
    def leading(self) -> bool:
        """Tell whether this process performs the duties now."""
        return self.leadership is not None and self.leadership.leading

    async def start(self) -> None:
        """Initialise and start the Application, the webhook endpoint, then seek leadership.
        Raises ``AlreadyRunning`` on SQLite when another process runs."""
        if self.file_lock is not None:
            self.file_lock.acquire()
        app, runtime = self.application, self.runtime
        await prepare_database(runtime)
        self.checkpoints.start()
        await app.initialize()
        await app.start()
        self._started = True
        if runtime.settings.http.enabled:
            # aiohttp's server side is loaded only by a bot that serves health and metrics or a
            # webhook
            from bot.observability.server import StatusServer

            self.status = StatusServer(
                runtime.settings.http,
                runtime.database,
                readiness_check(runtime.database, lambda: self.leading, self.telegram_reachable),
                self.metrics,
            )
            await self.status.start()
        settings = runtime.settings.telegram
        if settings.mode == "webhook" and settings.webhook is not None:
            from bot.inbox.webhook import WebhookServer

            self.webhook = WebhookServer(
                settings.webhook,
                app.bot,
                runtime.database,
                ready=lambda: self.leading,
                on_stored=self.dispatcher.offer,
            )
            await self.webhook.start()
        if runtime.database.is_postgresql:
            self.leadership = AdvisoryLockLeadership(runtime.database.url, self._lead, self._follow)
        else:
            self.leadership = SoleProcess(self._lead, self._follow)
        await self.leadership.start()
        collector.settle()
        log.info("dutybot started as @%s", app.bot.username)

    async def stop(self) -> None:
        """Give up leadership (stopping intake, handling, firing, sending), then stop the
        Application and release the database."""
        self._stopping = True
        app = self.application
        if self.leadership is not None:
            await self.leadership.stop()
        if self.webhook is not None:
            await self.webhook.stop()
        if self.status is not None:
            await self.status.stop()
        if self._started:
            if app.running:
                await app.stop()
            await app.shutdown()  # flushes the persistence
        for request in self.requests:
            await request.shutdown()
        await self.checkpoints.stop()
        await self.runtime.database.close()
        if self.file_lock is not None:
            self.file_lock.release()
        collector.unsettle()
        if self._started:
            log.info("dutybot stopped")

    async def _handle(self, item: Received) -> None:
        update = item.parsed or Update.de_json(item.raw, self.application.bot)
        if update is None:
            return
        known = Known.UNHANDLED if item.fresh else Known.NEW_ID if item.new_id else None
        if known is not None:
            self.runtime.known_updates[item.update_id] = known
        try:
            with answers_after_handling():
                await self.application.process_update(update)
        finally:
            self.runtime.known_updates.pop(item.update_id, None)

    def _fail(self, error: BaseException) -> None:
        if not self.fatal.done():
            self.fatal.set_result(error)

    async def _lead(self) -> None:
        """Take up the duties: sending, firing, the menus, intake and handling."""
        runtime, app = self.runtime, self.application
        runtime.seen_messages.forget()  # another process may have handled messages meanwhile
        sender = start_sender(runtime, app)
        sender.send_observers += [self.metrics.observe_send, self.telegram_reachable.observe_send]
        runtime.sender = sender
        self.metrics.set_leader(True)
        await ensure_daily_bulletin(runtime)
        await ensure_shifts(runtime)
        urgency = Urgency({**URGENCY.kinds, **DIRECTIVE_URGENCY}, URGENCY.levels)
        engine = Engine(runtime.database, runtime.clock, firer_registry(runtime), urgency)
        engine.on_fired = sender.wake
        if app.job_queue is not None:
            engine.arm(app.job_queue)
        runtime.engine = engine
        await self._start_intake()
        self.dispatcher.start()
        try:
            await publish_all_commands(app, runtime)
        except TelegramError as exc:
            log.warning("could not publish the command menus: %s", exc)
        self.led.set()

    async def _start_intake(self) -> None:
        bot, settings = self.application.bot, self.runtime.settings.telegram
        try:
            if settings.mode == "webhook" and settings.webhook is not None:
                await bot.set_webhook(
                    settings.webhook.url,
                    secret_token=settings.webhook.secret_token,
                    allowed_updates=Update.ALL_TYPES,
                )
                return
            await bot.delete_webhook()
        except InvalidToken as error:
            self._fail(error)
            return
        except TelegramError as error:
            log.warning("could not set up the webhook with Telegram: %s", error)
        if settings.mode == "polling":
            self.poller = Poller(
                bot,
                self.runtime.database,
                timeout=settings.poll_timeout,
                allowed_updates=Update.ALL_TYPES,
                dispatcher=self.dispatcher,
                on_fatal=self._fail,
            )
            self.poller.start()

    async def _follow(self) -> None:
        """Drop the duties at once: no more fetching, firing or sending; updates being handled
        finish (their effects are committed, their messages wait in the outbox)."""
        runtime = self.runtime
        self.led.clear()
        self.metrics.set_leader(False)
        runtime.seen_messages.forget()
        engine, runtime.engine = runtime.engine, None
        if isinstance(engine, Engine):
            engine.disarm()
        poller, self.poller = self.poller, None
        if poller is not None:
            await poller.stop()
        sender, runtime.sender = runtime.sender, None
        stopping = asyncio.create_task(sender.stop()) if isinstance(sender, Sender) else None
        await self.dispatcher.stop()
        if stopping is not None:
            await stopping
        if poller is not None and self._stopping:
            await poller.confirm()
        if not self._stopping:
            log.warning("no longer leading: stopped fetching, sending and firing")


async def _start_patiently(runtime: Runtime, stop: asyncio.Event) -> DutyBot | None:
    """Start, waiting for Telegram to be reachable (a duty desk waits; it does not quit)."""
    delay = 1.0
    while not stop.is_set():
        bot = DutyBot(runtime)
        try:
            await bot.start()
            return bot
        except NetworkError as error:  # not InvalidToken: that one ends the process
            log.warning("cannot reach Telegram (%s); retrying in %.0fs", error, delay)
            await bot.stop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 30.0)
        except BaseException:
            await bot.stop()
            raise
    return None


async def serve(runtime: Runtime) -> None:
    """Run until SIGINT or SIGTERM, then stop in order. Raises ``InvalidToken`` when Telegram
    rejects the token (at start or later) and ``AlreadyRunning`` when SQLite is taken."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        bot = await _start_patiently(runtime, stop)
        if bot is None:
            return
        try:
            stopped: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
            fatal: asyncio.Future[Any] = bot.fatal
            await asyncio.wait({stopped, fatal}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
        finally:
            await bot.stop()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
    if bot.fatal.done():
        raise bot.fatal.result()
