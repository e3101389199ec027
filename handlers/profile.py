"""The commands everyone has: ``/help``, ``/whoami``, ``/lang`` and ``/cancel``."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import callback_data
from bot.i18n import LANGUAGE_NAMES, translator
from bot.identity.service import set_language
from bot.render import local_time, position_name, role_list
from bot.settings import LANGUAGES
from handlers.common.catalog import commands_for
from handlers.common.context import DutyContext, require_caller
from handlers.common.menus import publish_commands_for
from handlers.common.respond import edit_in, reply, reply_in
from handlers.incident_actions import cancel_pending


async def help_command(update: Update, context: DutyContext) -> None:
    """List the commands of the caller's roles."""
    message = update.effective_message
    if message is None:
        return
    caller = require_caller(context)
    tr = context.tr
    lines = [
        tr._("What you can do ({roles}):").format(roles=role_list(tr, caller.person.roles)),
        "",
    ]
    for info in commands_for(caller.person.roles):
        usage = f" {info.usage}" if info.usage else ""
        lines.append(f"/{info.name}{usage} — {tr._(info.description)}")
    await reply(update, context, "\n".join(lines))


async def whoami(update: Update, context: DutyContext) -> None:
    """Show the caller's identity and whether they are on duty now."""
    message = update.effective_message
    if message is None:
        return
    caller = require_caller(context)
    tr, runtime = context.tr, context.runtime
    roster, tz, now = runtime.roster, runtime.settings.timezone, runtime.now()
    person = caller.person
    lines = [
        f"{person.name} ({person.id})",
        tr._("Unit: {unit}").format(unit=roster.units[person.unit].name),
        tr._("Roles: {roles}").format(roles=role_list(tr, person.roles)),
        tr._("Telegram id: {id}").format(id=caller.telegram_id),
        tr._("Language: {language}").format(language=LANGUAGE_NAMES[caller.language]),
    ]
    holdings = roster.holdings(person.id, now)
    if holdings:
        lines.append(tr._("On duty now:"))
        for holding in holdings:
            until = (
                tr._("until {time}").format(time=local_time(holding.until, tz))
                if holding.until
                else tr._("no handover in the next 14 days")
            )
            lines.append(
                f"• {position_name(tr, holding.position)}, "
                f"{roster.units[holding.unit].name}, {until}"
            )
    else:
        lines.append(tr._("Not on duty now."))
        upcoming = roster.next_holding(person.id, now)
        if upcoming is not None:
            moment, holding = upcoming
            lines.append(
                tr._("Next shift: {position}, {unit}, from {time}.").format(
                    position=position_name(tr, holding.position),
                    unit=roster.units[holding.unit].name,
                    time=local_time(moment, tz),
                )
            )
    await reply(update, context, "\n".join(lines))


def language_keyboard() -> InlineKeyboardMarkup:
    """One button per supported language."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    LANGUAGE_NAMES[code], callback_data=callback_data.encode("lang", code)
                )
                for code in LANGUAGES
            ]
        ]
    )


async def choose_language(
    update: Update, context: DutyContext, language: str, *, edit_menu: bool = False
) -> None:
    """Store the caller's language, confirm it (in place of the menu), refresh the command menu."""
    caller = require_caller(context)
    runtime = context.runtime
    tr = translator(language)
    context.tr = tr
    text = tr._("Language set to {language}.").format(language=LANGUAGE_NAMES[language])
    async with runtime.database.transaction() as session:
        await set_language(session, caller.person.id, language, runtime.now())
        if edit_menu:
            edit_in(session, update, context, text)
        else:
            reply_in(session, update, context, text)
    runtime.outbox_committed()
    await publish_commands_for(context.application, runtime, caller.person.id, caller.telegram_id)


async def lang(update: Update, context: DutyContext) -> None:
    """``/lang [en|zh]``: set the language, or offer the choice as buttons."""
    message = update.effective_message
    if message is None:
        return
    tr = context.tr
    args = context.args or []
    if not args:
        await reply(
            update, context, tr._("Choose your language:"), reply_markup=language_keyboard()
        )
        return
    code = args[0].lower()
    if len(args) != 1 or code not in LANGUAGES:
        await reply(
            update, context, tr._("Usage: /lang en or /lang zh"), reply_markup=language_keyboard()
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
        await query.answer(context.tr._("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    await choose_language(update, context, data.args[0], edit_menu=True)


async def cancel(update: Update, context: DutyContext) -> None:
    """``/cancel`` outside the report form: drop a question the bot is waiting on, if any."""
    if cancel_pending(context):
        await reply(update, context, context.tr._("Cancelled."))
    else:
        await reply(update, context, context.tr._("There is nothing to cancel."))
