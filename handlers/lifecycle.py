"""Start and stop: the database is migrated and the command menus published before polling."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError
from telegram.ext import Application

from bot.db.models import PersonRow
from bot.delivery.outbox import Claimed
from bot.delivery.pacing import Limits, Pacer
from bot.delivery.sender import Sender
from bot.escalation.scheduled import firers
from bot.i18n import pick_language, translator
from bot.identity.service import mark_unreachable, person_for_chat, telegram_ids
from bot.runtime import RUNTIME_KEY, Runtime
from bot.settings import LANGUAGES
from handlers.catalog import EVERYONE, commands_for
from handlers.supervision import BULLETIN, bulletin_firer, ensure_daily_bulletin
from scheduling.engine import Engine

log = logging.getLogger(__name__)
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def bot_commands(roles: frozenset[str], language: str) -> list[BotCommand]:
    """The command menu for a set of roles, in a language."""
    tr = translator(language)
    return [BotCommand(c.name, tr._(c.description)) for c in commands_for(roles)]


async def publish_commands_for(
    application: AnyApplication, runtime: Runtime, person_id: str, telegram_id: int
) -> None:
    """Give one person the command menu of their roles, in their language (best effort)."""
    person = runtime.roster.people[person_id]
    async with runtime.database.sessions() as session:
        chosen = await session.scalar(
            select(PersonRow.chosen_language).where(PersonRow.id == person_id)
        )
    language = pick_language(
        chosen=chosen, roster=person.language, telegram=None, default=runtime.settings.language
    )
    try:
        await application.bot.set_my_commands(
            bot_commands(person.roles, language), scope=BotCommandScopeChat(telegram_id)
        )
    except TelegramError as exc:
        # Expected for people who have not opened a chat yet; /start publishes it again.
        log.info("could not set the command menu of %s: %s", person_id, exc)


async def publish_all_commands(application: AnyApplication, runtime: Runtime) -> None:
    """The default menu in each language, then each known person's own menu."""
    for language in LANGUAGES:
        await application.bot.set_my_commands(
            bot_commands(EVERYONE, language), scope=BotCommandScopeDefault(), language_code=language
        )
    await application.bot.set_my_commands(
        bot_commands(EVERYONE, runtime.settings.language), scope=BotCommandScopeDefault()
    )
    async with runtime.database.sessions() as session:
        accounts = await telegram_ids(session, runtime.roster)
    for person_id, telegram_id in accounts.items():
        await publish_commands_for(application, runtime, person_id, telegram_id)


async def on_startup(application: AnyApplication) -> None:
    """Start delivering and publish the command menus (the database is prepared already:
    the persistence reads it when the application initialises)."""
    runtime: Runtime = application.bot_data[RUNTIME_KEY]
    limits = runtime.settings.delivery
    pacer = Pacer(
        Limits(limits.overall_per_second, 1.0 / limits.private_per_second, limits.group_per_minute)
    )
    runtime.sender = Sender(runtime.database, application.bot, pacer, lease=limits.claim_lease)
    runtime.sender.undeliverable_listeners.append(
        lambda item, reason: record_unreachable(runtime, item, reason)
    )
    runtime.sender.start()
    await ensure_daily_bulletin(runtime)
    runtime.engine = Engine(
        runtime.database, runtime.clock, {**firers(runtime), BULLETIN: bulletin_firer(runtime)}
    )
    runtime.engine.on_fired = runtime.sender.wake
    if application.job_queue is not None:
        runtime.engine.arm(application.job_queue)
    try:
        await publish_all_commands(application, runtime)
    except TelegramError as exc:
        log.warning("could not publish the command menus: %s", exc)
    log.info("dutybot started as @%s", application.bot.username)


async def record_unreachable(runtime: Runtime, item: Claimed, reason: str) -> None:
    """A 403: the person behind the chat cannot be messaged until they write to the bot."""
    async with runtime.database.transaction() as session:
        person_id = item.person_id or await person_for_chat(session, runtime.roster, item.chat_id)
        if person_id is not None:
            await mark_unreachable(session, person_id, runtime.now(), reason)


async def on_stop(application: AnyApplication) -> None:
    """Stop delivering (messages in flight are recorded; the rest wait in the outbox)."""
    runtime: Runtime = application.bot_data[RUNTIME_KEY]
    runtime.engine = None  # the JobQueue stops with the application
    if runtime.sender is not None:
        await runtime.sender.stop()
        runtime.sender = None


async def on_shutdown(application: AnyApplication) -> None:
    """Release the database."""
    runtime: Runtime = application.bot_data[RUNTIME_KEY]
    await runtime.database.close()
    log.info("dutybot stopped")
