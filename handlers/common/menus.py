"""The command menus Telegram shows each person (``setMyCommands``), per role and language."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError
from telegram.ext import Application

from bot.directory import languages, telegram_ids
from bot.i18n import translator
from bot.runtime import Runtime
from bot.settings import LANGUAGES
from handlers.common.catalog import EVERYONE, commands_for

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
        language = (
            await languages(session, runtime.roster, [person_id], runtime.settings.language)
        )[person_id]
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
