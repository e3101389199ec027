"""``/export bulletin <day|week|month> [date]``, ``/export incident <#>`` and ``/export dutylog
<unit> [date]`` (SPEC §3.5, §3.7): the bulletin as an XLSX workbook, an incident's dossier and a
shift's duty log as DOCX documents, sent as files."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.delivery.outbox import DocumentTooLarge, enqueue_document
from bot.parsing import parse_number
from bot.supervision import flows, messaging, periods
from bot.supervision.documents import Document
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply, reply_in


async def export_command(update: Update, context: DutyContext) -> None:
    """Parse what to export, call its flow, send the file (or say why not)."""
    runtime, tr = context.runtime, context.tr
    args = context.args or []
    what = args[0].lower() if args else ""
    chat = update.effective_chat
    if chat is None:
        return
    if what == "bulletin" and len(args) >= 2:
        settings = runtime.settings
        today = periods.duty_date(runtime.now(), settings.bulletin_daily_at, settings.timezone)
        asked = periods.parse_period(args[1:], today)
        if asked is not None and args[1].lower() in periods.PERIODS:
            kind, day = asked
            async with runtime.database.transaction() as session:
                document = await flows.export_bulletin(
                    session, runtime, actor_of(context), kind, tr, day
                )
                if document is None:
                    reply_in(session, update, context, messaging.watch_refusal(tr))
                else:
                    _send(session, chat.id, document, update, context)
            return
    if what == "dutylog" and len(args) in (2, 3):
        asked = periods.parse_period(args[2:], runtime.now().date())
        day = asked[1] if asked is not None else None
        if asked is not None and (len(args) == 2 or day is not None):
            async with runtime.database.transaction() as session:
                log = await flows.export_duty_log(
                    session, runtime, actor_of(context), args[1], day, tr
                )
                if log is None:
                    reply_in(session, update, context, messaging.dutylog_export_refusal(tr))
                else:
                    _send(session, chat.id, log, update, context)
            return
    number = parse_number(args[1]) if what == "incident" and len(args) == 2 else None
    if number is None:
        await reply(update, context, messaging.export_usage(tr))
        return
    async with runtime.database.transaction() as session:
        found = await flows.export_incident(session, runtime, actor_of(context), number, tr)
        if found is flows.Unseen.MISSING:
            reply_in(session, update, context, messaging.incident_missing(tr, number))
        elif found is flows.Unseen.HIDDEN:
            reply_in(session, update, context, messaging.incident_hidden(tr, number))
        elif isinstance(found, Document):
            _send(session, chat.id, found, update, context)


def _send(
    session: AsyncSession,
    chat_id: int,
    document: Document,
    update: Update,
    context: DutyContext,
) -> None:
    try:
        enqueue_document(session, chat_id, document.data, document.filename, document.caption)
    except DocumentTooLarge:
        reply_in(session, update, context, messaging.export_too_large(context.tr))
