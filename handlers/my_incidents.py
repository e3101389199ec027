"""The reporter's and the officer's own lists: ``/myreports``, ``/addinfo``, photos captioned
``#N``, and ``/mine``. Transport only: the flows decide, the domain's messaging words it."""

from __future__ import annotations

import re

from telegram import InlineKeyboardMarkup, Update

from bot import callback_data
from bot.incidents import flows, messaging
from bot.parsing import clean_text, parse_number
from handlers.common.buttons import answer_button, answer_soon
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply, reply_in

CAPTION = re.compile(r"^\s*#(\d{1,12})\b\s*(.*)$", re.S)
MAX_INFO = 3000


async def my_reports(update: Update, context: DutyContext) -> None:
    """The caller's own reports, newest first, with their state."""
    runtime = context.runtime
    async with runtime.database.sessions() as session:
        rows = await flows.my_reports(session, actor_of(context))
    await reply(update, context, messaging.my_reports_text(context.tr, rows, runtime.settings))


async def _add(
    update: Update, context: DutyContext, number: int, *, text: str | None, photo: str | None
) -> None:
    runtime = context.runtime
    async with runtime.database.transaction() as session:
        attempt = await flows.add_info(
            session, runtime, actor_of(context), number, text=text, photo=photo
        )
        reply_in(session, update, context, messaging.add_info_answer(context.tr, attempt))


async def add_info(update: Update, context: DutyContext) -> None:
    """``/addinfo <#> <text>``: add to one's own report; the assignee is told."""
    tr = context.tr
    args = context.args or []
    number = parse_number(args[0]) if args else None
    message = update.effective_message
    text = clean_text(message.text or "").split(maxsplit=2) if message else []
    if number is None or len(text) < 3 or not text[2].strip():
        await reply(
            update,
            context,
            tr._("Usage: /addinfo <number> <text>, for example /addinfo 17 water now knee-deep"),
        )
        return
    if len(text[2]) > MAX_INFO:
        await reply(
            update,
            context,
            tr._("That is too long ({length} characters; at most {limit}).").format(
                length=len(text[2]), limit=MAX_INFO
            ),
        )
        return
    await _add(update, context, number, text=text[2].strip(), photo=None)


async def captioned_photo(update: Update, context: DutyContext) -> None:
    """A photo captioned ``#17 …`` adds the photo (and the caption's text) to report #17."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    match = CAPTION.match(clean_text(message.caption or ""))
    if match is None:
        await reply(
            update,
            context,
            context.tr._(
                "To add a photo to a report, caption it with the report number, for example #17."
            ),
        )
        return
    await _add(
        update,
        context,
        int(match.group(1)),
        text=match.group(2).strip()[:MAX_INFO] or None,
        photo=message.photo[-1].file_id,
    )


async def _mine_page(
    update: Update, context: DutyContext, page: int, section: int, after: int
) -> None:
    runtime = context.runtime
    async with runtime.database.sessions() as session:
        shown = await flows.mine(
            session, actor_of(context), page=page, section=section, after=after
        )
    text, markup = messaging.mine_text(
        context.tr,
        shown.assigned,
        shown.waiting,
        runtime.roster,
        runtime.settings,
        page=shown.page,
        starts_with_own=shown.starts_with_own,
        next_key=shown.next_key,
    )
    keyboard = InlineKeyboardMarkup.de_json(markup, context.bot) if markup else None
    await reply(update, context, text, reply_markup=keyboard)


async def mine(update: Update, context: DutyContext) -> None:
    """The caller's open incidents with their next deadline, and what waits in their unit."""
    await _mine_page(update, context, 1, 0, 0)


async def mine_button(update: Update, context: DutyContext) -> None:
    """The next page of ``/mine``."""
    query = update.callback_query
    if query is None:
        return
    data = callback_data.decode(query.data)
    key = messaging.parse_mine_key(data.args[0]) if data else None
    if key is None:
        await answer_button(query, context.tr._("This button is no longer valid."), show_alert=True)
        return
    answer_soon(context, query)
    await _mine_page(update, context, *key)
