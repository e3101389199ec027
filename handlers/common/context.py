"""Who is asking: the caller resolved once per update, their language, and the runtime."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, ApplicationHandlerStop, CallbackContext, ExtBot

from bot.access import Actor
from bot.delivery.outbox import enqueue
from bot.i18n import Translator, pick_language, translator
from bot.identity.service import identify, mark_reachable
from bot.persistence import SQLPersistence
from bot.roster import Person
from bot.runtime import RUNTIME_KEY, Runtime
from bot.updates import Known, key_of, record_processed_if_new
from handlers.common.buttons import answer_button


@dataclass(frozen=True)
class Caller:
    """A roster person talking to the bot."""

    person: Person
    telegram_id: int
    language: str

    def has_role(self, *roles: str) -> bool:
        """Tell whether the caller holds any of ``roles``."""
        return bool(self.person.roles.intersection(roles))


class DutyContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context with the caller and their translator, set by ``identify_caller``."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id, user_id)
        self.caller: Caller | None = None
        self.tr: Translator = translator(self.runtime.settings.language)
        self.update_recorded = False
        self.persist_now = False  # a form changed (its state is saved with the update's record)
        # writes (answers) committed with the update's record at its end, by ``record_update``
        self.deferred: list[Callable[[AsyncSession], None]] = []

    @property
    def runtime(self) -> Runtime:
        """The composition root of this bot."""
        runtime: Runtime = self.application.bot_data[RUNTIME_KEY]
        return runtime


def is_deep_link_start(update: Update) -> bool:
    """Tell whether the update is ``/start <code>``, which strangers may send to link an account."""
    message = update.effective_message
    text = message.text if message and message.text else ""
    parts = text.split()
    return len(parts) == 2 and parts[0].split("@")[0] == "/start"


async def identify_caller(update: Update, context: DutyContext) -> None:
    """Drop re-delivered updates; resolve the caller; refuse strangers politely, with their id."""
    runtime, key = context.runtime, key_of(update)
    # once: a second look asks the database
    known = runtime.known_updates.pop(update.update_id, None)
    seen = runtime.seen_messages
    if known is not Known.UNHANDLED and await seen.handled_before(
        runtime.database, key, new_id=known is Known.NEW_ID
    ):
        raise ApplicationHandlerStop
    seen.passed(key)
    async with runtime.database.sessions() as session:
        user = update.effective_user
        if user is None:
            return
        identity = await identify(session, runtime.roster, user.id)
    default = runtime.settings.language
    if identity is None:
        context.tr = translator(
            pick_language(chosen=None, roster=None, telegram=user.language_code, default=default)
        )
        if is_deep_link_start(update):
            return
        chat = update.effective_chat
        allowed = runtime.flood.allow(
            "stranger", user.id, runtime.settings.flood.stranger_answers_per_minute, runtime.now()
        )
        if chat is not None and chat.type == ChatType.PRIVATE and allowed:
            text = context.tr._(
                "Sorry, this bot serves the duty desk's roster only. Your Telegram id is {id}: "
                "give it to your duty office administrator to be added."
            ).format(id=user.id)
            if update.callback_query is not None:
                await answer_button(update.callback_query, text, show_alert=True)
            else:
                async with runtime.database.transaction() as session:
                    enqueue(session, chat.id, text)
                    await record_processed_if_new(session, key, runtime.now())
                raise ApplicationHandlerStop
        async with runtime.database.transaction() as session:
            await record_processed_if_new(session, key, runtime.now())
        raise ApplicationHandlerStop
    language = pick_language(
        chosen=identity.chosen_language,
        roster=identity.person.language,
        telegram=user.language_code,
        default=default,
    )
    context.caller = Caller(identity.person, user.id, language)
    context.tr = translator(language)
    if identity.unreachable:
        async with runtime.database.transaction() as session:
            await mark_reachable(session, identity.person.id, runtime.now())


async def record_update(update: Update, context: DutyContext) -> None:
    """After every handler: commit, in one transaction, the update's record, its deferred
    answers and what it changed in the caller's forms (user data, conversation states), so that
    a re-delivered copy changes nothing and a form answer is never lost nor applied twice."""
    application, runtime = context.application, context.runtime
    user, chat = update.effective_user, update.effective_chat
    user_id = user.id if user is not None else None
    chat_id = chat.id if chat is not None else None
    persistence = application.persistence
    if isinstance(persistence, SQLPersistence) and user_id is not None:
        application.mark_data_for_update_persistence(user_ids=user_id)
        await application.update_persistence()  # buffered by the persistence, not written
    deferred, context.deferred = context.deferred, []
    async with runtime.database.transaction() as session:
        if isinstance(persistence, SQLPersistence):
            await persistence.write_pending(session, user_id=user_id, chat_id=chat_id)
        for write in deferred:
            write(session)
        if not context.update_recorded:
            await record_processed_if_new(session, key_of(update), runtime.now())
            context.update_recorded = True


def require_caller(context: DutyContext) -> Caller:
    """The caller; handlers after the identification gate always have one."""
    if context.caller is None:  # pragma: no cover - the gate stops strangers first
        raise ApplicationHandlerStop
    return context.caller


def actor_of(context: DutyContext) -> Actor:
    """The caller as the permission rules see them right now."""
    caller, runtime = require_caller(context), context.runtime
    return Actor.at(runtime.roster, caller.person, runtime.now())
