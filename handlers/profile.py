"""The commands everyone has: ``/help``, ``/whoami``, ``/lang`` and ``/cancel``."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot import callback_data
from bot.i18n import translator
from bot.identity import flows, messaging
from bot.render import role_list
from bot.settings import LANGUAGES
from handlers.common.buttons import answer_button, answer_soon
from handlers.common.catalog import commands_for
from handlers.common.context import DutyContext, require_caller
from handlers.common.menus import publish_commands_for
from handlers.common.respond import edit_in, reply, reply_in


async def help_command(update: Update, context: DutyContext) -> None:
    """List the commands of the caller's roles."""
    if update.effective_message is None:
        return
    caller = require_caller(context)
    tr = context.tr
    lines = [
        tr._("What you can do ({roles}):").format(roles=role_list(tr, caller.person.roles)),
        "",
    ]
    for info in commands_for(caller.person.roles):
        usage = f" {tr._(info.usage)}" if info.usage else ""
        lines.append(f"/{info.name}{usage} — {tr._(info.description)}")
    await reply(update, context, "\n".join(lines))


async def whoami(update: Update, context: DutyContext) -> None:
    """Show the caller's identity and whether they are on duty now."""
    if update.effective_message is None:
        return
    caller, runtime = require_caller(context), context.runtime
    text = messaging.whoami_text(
        context.tr,
        runtime.roster,
        runtime.settings.timezone,
        runtime.now(),
        caller.person,
        caller.telegram_id,
        caller.language,
    )
    await reply(update, context, text)


def language_keyboard(context: DutyContext) -> InlineKeyboardMarkup:
    """One button per supported language."""
    return InlineKeyboardMarkup.de_json(messaging.language_buttons(), context.bot)


async def choose_language(
    update: Update, context: DutyContext, language: str, *, edit_menu: bool = False
) -> None:
    """Store the caller's language, confirm it (in place of the menu), refresh the command menu."""
    caller, runtime = require_caller(context), context.runtime
    tr = translator(language)
    context.tr = tr
    text = messaging.language_set(tr, language)
    async with runtime.database.transaction() as session:
        await flows.choose_language(session, runtime, caller.person.id, language)
        if edit_menu:
            edit_in(session, update, context, text)
        else:
            reply_in(session, update, context, text)
    await publish_commands_for(context.application, runtime, caller.person.id, caller.telegram_id)


async def lang(update: Update, context: DutyContext) -> None:
    """``/lang [en|zh]``: set the language, or offer the choice as buttons."""
    if update.effective_message is None:
        return
    tr = context.tr
    args = context.args or []
    if not args:
        await reply(
            update,
            context,
            tr._("Choose your language:"),
            reply_markup=language_keyboard(context),
        )
        return
    code = args[0].lower()
    if len(args) != 1 or code not in LANGUAGES:
        await reply(
            update,
            context,
            tr._("Usage: /lang en or /lang zh"),
            reply_markup=language_keyboard(context),
        )
        return
    await choose_language(update, context, code)


async def lang_button(update: Update, context: DutyContext) -> None:
    """A press on one of the ``/lang`` buttons."""
    query = update.callback_query
    if query is None:
        return
    data = callback_data.decode(query.data)
    if data is None or data.action != "lang" or data.args[0] not in LANGUAGES:
        await answer_button(query, context.tr._("This button is no longer valid."), show_alert=True)
        return
    answer_soon(context, query)
    await choose_language(update, context, data.args[0], edit_menu=True)


async def cancel(update: Update, context: DutyContext) -> None:
    """``/cancel`` outside any form or exchange (each of those handles its own): nothing to
    cancel."""
    await reply(update, context, context.tr._("There is nothing to cancel."))
