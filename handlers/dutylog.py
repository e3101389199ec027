"""The duty log (SPEC §3.7): ``/log <kind> <text>`` writes in it, ``/dutylog [unit] [date]``
reads a shift's log in pages (Earlier / Later)."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler

from bot import callback_data
from bot.callback_data import pattern
from bot.duty import flows, messaging
from bot.duty.service import LOG_KINDS
from bot.parsing import parse_number
from handlers.common.answer import Answer
from handlers.common.buttons import answer_button, answer_soon
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply

MAX_ENTRY = 1500
# the kinds as typed, in either language
KIND_WORDS = {
    **{kind: kind for kind in LOG_KINDS},
    "来电": "call",
    "来文": "document",
    "要情": "notice",
    "其他": "other",
}


async def log_command(update: Update, context: DutyContext) -> None:
    """``/log <kind> <text>`` (a first word that is no kind makes an entry of kind other)."""
    tr, runtime = context.tr, context.runtime
    args = context.args or []
    kind = KIND_WORDS.get(args[0].lower()) if args else None
    words = args[1:] if kind else args
    text = " ".join(words).strip()[:MAX_ENTRY]
    if not text:
        await reply(update, context, messaging.log_usage(tr))
        return
    kind = kind or "other"
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        saved = await flows.write_log(session, runtime, actor_of(context), kind, text)
        answer.say(session, messaging.log_saved(tr, kind) if saved else messaging.not_on_duty(tr))
    await answer.finish()


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


async def _show(
    update: Update, context: DutyContext, unit: str | None, day: date | None, page: int
) -> None:
    tr, runtime = context.tr, context.runtime
    async with runtime.database.sessions() as session:
        found = await flows.duty_log(session, runtime, actor_of(context), unit, day)
    if not found.allowed or found.start is None or found.end is None:
        await reply(update, context, messaging.dutylog_refusal(tr, found.unit_id))
        return
    tz = runtime.settings.timezone
    text, pages = messaging.dutylog_page(
        tr, runtime.roster, tz, found.unit_id, found.start, found.end, list(found.events), page
    )
    shown_day = found.start.astimezone(tz).date() if day is None else day
    markup = messaging.dutylog_buttons(
        tr, found.unit_id, shown_day.strftime("%Y%m%d"), min(page, pages - 1), pages
    )
    keyboard = InlineKeyboardMarkup.de_json(markup, context.bot) if markup else None
    await reply(update, context, text, reply_markup=keyboard)


async def dutylog_command(update: Update, context: DutyContext) -> None:
    """``/dutylog [unit] [YYYY-MM-DD]``."""
    args = context.args or []
    unit: str | None = None
    day: date | None = None
    for arg in args[:2]:
        parsed = _parse_day(arg)
        if parsed is not None:
            day = parsed
        else:
            unit = arg
    if len(args) > 2 or (len(args) == 2 and (day is None or unit is None)):
        await reply(update, context, messaging.dutylog_usage(context.tr))
        return
    await _show(update, context, unit, day, 0)


async def page_button(update: Update, context: DutyContext) -> None:
    """Earlier / Later: another page (the permission is asked again)."""
    query = update.callback_query
    if query is None:
        return
    data = callback_data.decode(query.data)
    page = parse_number(data.args[2]) if data else None
    day = None
    if data is not None:
        raw = data.args[1]
        day = _parse_day(f"{raw[:4]}-{raw[4:6]}-{raw[6:]}") if len(raw) == 8 else None
    if data is None or page is None or day is None:
        await answer_button(query, context.tr._("This button is no longer valid."), show_alert=True)
        return
    answer_soon(context, query)
    await _show(update, context, data.args[0], day, page)


def page_handler() -> CallbackQueryHandler[DutyContext, None]:
    """The duty log's page buttons."""
    return CallbackQueryHandler(page_button, pattern=pattern("dlp"))
