"""The composition root: builds everything a running bot is made of and starts and stops it in
order.

settings and roster → database (migrated, roster synced) → Application (handlers registered,
persistence) → on start: sender, then the deadline engine with every domain's firers, then the
command menus → on stop: engine, sender → on shutdown: database. Only this module and the CLI
import ``handlers``.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, Defaults

from bot.delivery.outbox import Claimed
from bot.delivery.pacing import Limits, Pacer
from bot.delivery.sender import Sender
from bot.directory import person_for_chat
from bot.escalation.scheduled import firers as escalation_firers
from bot.identity.flows import prepare_database
from bot.identity.service import mark_unreachable
from bot.observability import Metrics, StatusServer, TelegramReachability, readiness_check
from bot.persistence import SQLPersistence
from bot.runtime import RUNTIME_KEY, Runtime
from bot.supervision.scheduled import BULLETIN, bulletin_firer, ensure_daily_bulletin
from handlers import register
from handlers.common.context import DutyContext
from handlers.common.menus import publish_all_commands
from scheduling.engine import Engine, Firer

log = logging.getLogger(__name__)
STATUS_KEY = "dutybot.status"
AnyApplication = Application[Any, Any, Any, Any, Any, Any]

__all__ = ["build_application", "prepare_database"]


def firer_registry(runtime: Runtime) -> dict[str, Firer]:
    """Every deadline kind and the domain firer that handles it."""
    return {**escalation_firers(runtime), BULLETIN: bulletin_firer(runtime)}


def build_application(runtime: Runtime) -> AnyApplication:
    """The python-telegram-bot Application with every handler registered."""
    settings = runtime.settings
    application = (
        Application.builder()
        .token(settings.require_token())
        .base_url(settings.telegram.base_url)
        .base_file_url(settings.telegram.base_file_url)
        .defaults(Defaults(tzinfo=settings.timezone, block=True))
        .context_types(ContextTypes(context=DutyContext))
        .persistence(SQLPersistence(runtime.database))
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
        .build()
    )
    application.bot_data[RUNTIME_KEY] = runtime
    register(application)
    return application


async def on_startup(application: AnyApplication) -> None:
    """Start delivering, then firing deadlines, then publish the command menus (the database
    is prepared already: the persistence reads it when the application initialises)."""
    runtime: Runtime = application.bot_data[RUNTIME_KEY]
    limits = runtime.settings.delivery
    pacer = Pacer(
        Limits(limits.overall_per_second, 1.0 / limits.private_per_second, limits.group_per_minute)
    )
    sender = Sender(runtime.database, application.bot, pacer, lease=limits.claim_lease)
    sender.undeliverable_listeners.append(
        lambda item, reason: record_unreachable(runtime, item, reason)
    )
    sender.start()
    runtime.sender = sender
    await start_status_server(application, runtime, sender)
    await ensure_daily_bulletin(runtime)
    engine = Engine(runtime.database, runtime.clock, firer_registry(runtime))
    engine.on_fired = sender.wake
    if application.job_queue is not None:
        engine.arm(application.job_queue)
    runtime.engine = engine
    try:
        await publish_all_commands(application, runtime)
    except TelegramError as exc:
        log.warning("could not publish the command menus: %s", exc)
    log.info("dutybot started as @%s", application.bot.username)


async def start_status_server(
    application: AnyApplication, runtime: Runtime, sender: Sender
) -> None:
    """Serve /healthz, /readyz and /metrics when ``[http] port`` is set."""
    metrics, telegram = Metrics(), TelegramReachability()
    sender.send_observers += [metrics.observe_send, telegram.observe_send]
    status = StatusServer(
        runtime.settings.http,
        runtime.database,
        readiness_check(runtime.database, lambda: True, telegram),
        metrics,
    )
    await status.start()
    metrics.set_leader(True)
    application.bot_data[STATUS_KEY] = status


async def record_unreachable(runtime: Runtime, item: Claimed, reason: str) -> None:
    """A 403: the person behind the chat cannot be messaged until they write to the bot."""
    async with runtime.database.transaction() as session:
        person_id = item.person_id or await person_for_chat(session, runtime.roster, item.chat_id)
        if person_id is not None:
            await mark_unreachable(session, person_id, runtime.now(), reason)


async def on_stop(application: AnyApplication) -> None:
    """Stop firing and delivering (messages in flight are recorded; the rest wait)."""
    runtime: Runtime = application.bot_data[RUNTIME_KEY]
    runtime.engine = None  # the JobQueue stops with the application
    sender = runtime.sender
    runtime.sender = None
    if isinstance(sender, Sender):
        await sender.stop()


async def on_shutdown(application: AnyApplication) -> None:
    """Stop serving health and metrics; release the database."""
    runtime: Runtime = application.bot_data[RUNTIME_KEY]
    status = application.bot_data.pop(STATUS_KEY, None)
    if isinstance(status, StatusServer):
        await status.stop()
    await runtime.database.close()
    log.info("dutybot stopped")
