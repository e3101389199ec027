"""``/flash <#> <text>`` and ``/flash <#> phone <to whom>``: the flash report (快报, SPEC §3.3).

Transport only: parse, call ``bot.reports.flows.flash`` in a transaction, answer.
"""

from __future__ import annotations

from telegram import Update

from bot.incidents.service import parse_when
from bot.parsing import parse_number
from bot.reports import flows, messaging
from handlers.common.answer import Answer
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply

MAX_TEXT = 1500
PHONE_WORDS = ("phone", "电话")


async def flash_command(update: Update, context: DutyContext) -> None:
    """``/flash <#> <what we know now>`` or ``/flash <#> phone <to whom> [HH:MM]`` (when it
    was phoned, default now)."""
    tr, runtime = context.tr, context.runtime
    args = context.args or []
    number = parse_number(args[0]) if args else None
    rest = args[1:]
    by_phone = bool(rest) and rest[0].lower() in PHONE_WORDS
    words = rest[1:] if by_phone else rest
    phoned_at = None
    if by_phone and len(words) > 1:
        phoned_at = parse_when(words[-1], runtime.now(), runtime.settings.timezone)
        if phoned_at is not None:
            words = words[:-1]
    text = " ".join(words).strip()[:MAX_TEXT]
    if number is None or not text:
        await reply(update, context, messaging.flash_usage(tr))
        return
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        filed = await flows.flash(
            session,
            runtime,
            actor_of(context),
            number,
            text="" if by_phone else text,
            phoned_to=text if by_phone else "",
            phoned_at=phoned_at,
        )
        if filed.report is None:
            assert filed.refusal is not None
            answer.say(session, messaging.refusal(tr, filed.refusal, number, filed.unit))
        else:
            answer.say(session, messaging.flash_answer(tr, number, by_phone, filed.report.late))
    await answer.finish()
