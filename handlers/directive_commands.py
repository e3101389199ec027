"""The lead and assisting units' commands on a directive (SPEC §3.6): ``/directives`` (with
Next page), ``/receive``, ``/feedback`` (also as a captioned photo or document), ``/extend``,
and ``/instruct`` on an incident. Transport only: parse, call the flow, answer."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot import callback_data
from bot.directives import flows, listing, messaging
from bot.directives.service import parse_code, split_limit
from bot.levels import MAX_DIRECTIVE_FEEDBACK, MAX_DIRECTIVE_TEXT
from bot.parsing import clean_text, parse_number
from handlers.common.answer import Answer
from handlers.common.buttons import answer_soon
from handlers.common.context import DutyContext, actor_of
from handlers.common.forms import markup
from handlers.common.respond import reply

DONE_WORDS = frozenset({"done", "completed", "完成", "已完成", "办结", "已办结"})
CAPTION = r"^\s*(/feedback(@\w+)?\s+)?[DdＤ][0-9０-９]+\b"


def _words(update: Update) -> list[str]:
    """The message's words after the command (text or caption), cleaned."""
    message = update.effective_message
    raw = clean_text((message.text or message.caption or "") if message else "")
    words = raw.split(maxsplit=2) if raw.lstrip().startswith("/") else ["", *raw.split(maxsplit=1)]
    return words[1:]


async def directives_command(update: Update, context: DutyContext) -> None:
    """``/directives``: the open directives I issued or my unit must answer."""
    await _page(update, context, 0)


async def directives_button(update: Update, context: DutyContext) -> None:
    """Next page of ``/directives``."""
    query = update.callback_query
    data = callback_data.decode(query.data if query else None)
    after = parse_number(data.args[0]) if data else None
    if query is None or after is None:
        return
    answer_soon(context, query)
    await _page(update, context, after)


async def _page(update: Update, context: DutyContext, after: int) -> None:
    tr, runtime = context.tr, context.runtime
    async with runtime.database.sessions() as session:
        page, more = await flows.mine(session, actor_of(context), after)
    text = listing.directives_list(
        tr, runtime.settings, runtime.roster, page, runtime.now(), more=more
    )
    buttons = markup(listing.next_page_button(tr, after + len(page))) if more else None
    await reply(update, context, text, reply_markup=buttons)


async def receive_command(update: Update, context: DutyContext) -> None:
    """``/receive D#``: the command behind the Receive button."""
    args = context.args or []
    number = parse_code(args[0]) if args else None
    tr, runtime = context.tr, context.runtime
    if number is None:
        await reply(update, context, messaging.no_directive(tr))
        return
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        attempt = await flows.receive(session, runtime, actor_of(context), number)
        answer.say(
            session,
            messaging.receive_outcome(
                tr, runtime.settings, attempt.directive, attempt.done, attempt.refusal
            ),
        )
    await answer.finish()


async def feedback_command(update: Update, context: DutyContext) -> None:
    """``/feedback D# [done] <text>``, or a photo or document captioned so."""
    tr, runtime = context.tr, context.runtime
    words = _words(update)
    number = parse_code(words[0]) if words else None
    rest = words[1].strip() if len(words) > 1 else ""
    first, _, after = rest.partition(" ")
    completed = first.lower().rstrip(":：,，") in DONE_WORDS
    text = after.strip() if completed else rest
    if number is None or (not text and not completed) or len(text) > MAX_DIRECTIVE_FEEDBACK:
        await reply(update, context, messaging.feedback_usage(tr))
        return
    message = update.effective_message
    attachments: tuple[tuple[str, str], ...] = ()
    if message is not None and message.photo:
        attachments = (("photo", message.photo[-1].file_id),)
    elif message is not None and message.document:
        attachments = (("document", message.document.file_id),)
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        attempt = await flows.feedback(
            session, runtime, actor_of(context), number, text, attachments, completed=completed
        )
        answer.say(session, _feedback_answer(context, attempt, completed))
    await answer.finish()


def _feedback_answer(context: DutyContext, attempt: flows.Attempt, completed: bool) -> str:
    tr, directive = context.tr, attempt.directive
    if directive is None:
        return messaging.no_directive(tr)
    if attempt.refusal == "refused":
        return messaging.refused(tr)
    if not attempt.done:
        return messaging.closed_already(tr, directive)
    lead = attempt.refusal == "lead"
    return messaging.feedback_answer(tr, directive, lead=lead, completed=completed and lead)


async def extend_command(update: Update, context: DutyContext) -> None:
    """``/extend D# <duration> <reason>``: more time, asked of the issuer."""
    tr, runtime = context.tr, context.runtime
    words = clean_text(update.effective_message.text or "") if update.effective_message else ""
    parts = words.split(maxsplit=2)[1:]
    number = parse_code(parts[0]) if parts else None
    limit, reason = split_limit(parts[1]) if len(parts) > 1 else ("", "")
    if number is None or not limit or not reason or len(reason) > MAX_DIRECTIVE_FEEDBACK:
        await reply(update, context, messaging.extend_usage(tr))
        return
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        attempt = await flows.extend(session, runtime, actor_of(context), number, limit, reason)
        directive = attempt.directive
        if directive is None:
            text = messaging.no_directive(tr)
        elif attempt.refusal == "bad_limit":
            text = messaging.extend_usage(tr)
        elif attempt.done:
            text = messaging.extension_asked_answer(tr, directive)
        elif attempt.refusal == "refused":
            text = messaging.refused(tr)
        elif attempt.refusal == "closed":
            text = messaging.closed_already(tr, directive)
        else:
            text = messaging.extend_too_late(tr, directive)
        answer.say(session, text)
    await answer.finish()


async def instruct_command(update: Update, context: DutyContext) -> None:
    """``/instruct <#> <text>``: an instruction (批示) on an incident."""
    tr = context.tr
    raw = clean_text(update.effective_message.text or "") if update.effective_message else ""
    parts = raw.split(maxsplit=2)[1:]
    number = parse_number(parts[0]) if parts else None
    text = parts[1].strip() if len(parts) > 1 else ""
    if number is None or not text or len(text) > MAX_DIRECTIVE_TEXT:
        await reply(update, context, messaging.instruct_usage(tr))
        return
    await issue_instruction(update, context, number, text)


async def issue_instruction(update: Update, context: DutyContext, number: int, text: str) -> None:
    """Issue the instruction and answer (the command, and the Instruct button's exchange)."""
    tr, runtime = context.tr, context.runtime
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        attempt = await flows.instruct(session, runtime, actor_of(context), number, text)
        if attempt.directive is not None:
            reply_text = messaging.issued_answer(
                tr, runtime.roster, attempt.directive, attempt.told
            )
        else:
            reply_text = messaging.instruct_refused(tr, number)
        answer.say(session, reply_text)
    await answer.finish()


def media_handler() -> MessageHandler[DutyContext, None]:
    """A photo or document captioned ``D# …`` (or ``/feedback D# …``) is feedback with it."""
    media = filters.PHOTO | filters.Document.ALL
    return MessageHandler(media & filters.CaptionRegex(CAPTION), feedback_command)


def page_handler() -> CallbackQueryHandler[DutyContext, None]:
    """The Next page button of ``/directives``."""
    return CallbackQueryHandler(directives_button, pattern=callback_data.pattern("dnp"))
