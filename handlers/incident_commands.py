"""Commands that act on an incident (SPEC §3.2): ``/accept``, ``/transfer``, ``/dismiss``,
``/merge``, ``/level``, ``/sensitive`` and ``/drill``.

Transport only: parse the arguments (bad input gets the usage and changes nothing), call one
flow of ``bot.incidents.flows`` in a transaction, answer with the domain's messaging.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from bot.access import Actor
from bot.incidents import flows, messaging
from bot.incidents.service import Attempt
from bot.levels import ASSESSED_LEVELS, parse_level
from bot.parsing import clean_text, parse_number
from bot.reports import flows as report_flows
from handlers.common.answer import Answer
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply

MAX_REASON = 500
Flow = Callable[[AsyncSession, Actor], Awaitable[Attempt]]
Render = Callable[[Attempt], str]


async def _act(update: Update, context: DutyContext, flow: Flow, render: Render) -> None:
    """Run one flow in a transaction and answer with what it did."""
    runtime, actor, answer = context.runtime, actor_of(context), Answer(update, context)
    async with runtime.database.transaction() as session:
        attempt = await flow(session, actor)
        answer.say(session, render(attempt))
    await answer.finish()


async def _arguments(
    update: Update, context: DutyContext, usage: str, count: int
) -> tuple[int, list[str]] | None:
    """The incident number and the other arguments, or ``None`` (the usage answered)."""
    args = context.args or []
    number = parse_number(args[0]) if args else None
    if len(args) < count or number is None:
        await reply(update, context, usage)
        return None
    return number, args[1:]


async def accept_command(update: Update, context: DutyContext) -> None:
    """``/accept <#>``."""
    tr, runtime = context.tr, context.runtime
    parsed = await _arguments(
        update, context, tr._("Usage: /accept <number>, for example /accept 17"), 1
    )
    if parsed is None:
        return
    number = parsed[0]
    await _act(
        update,
        context,
        lambda session, actor: flows.accept(session, runtime, actor, number),
        lambda attempt: messaging.accept_answer(tr, attempt, runtime.roster, runtime.settings),
    )


async def transfer_command(update: Update, context: DutyContext) -> None:
    """``/transfer <#> <unit> <reason>``."""
    tr, runtime = context.tr, context.runtime
    usage = tr._(
        "Usage: /transfer <number> <unit> <reason>, for example "
        "/transfer 17 water burst main, not ours"
    )
    parsed = await _arguments(update, context, usage, 3)
    if parsed is None:
        return
    number, (unit, *words) = parsed
    if unit not in runtime.roster.units:
        await reply(
            update, context, tr._("There is no unit with the id {id}.").format(id=unit[:64])
        )
        return
    reason = clean_text(" ".join(words))[:MAX_REASON]
    await _act(
        update,
        context,
        lambda session, actor: flows.transfer(session, runtime, actor, number, unit, reason),
        lambda attempt: messaging.transfer_answer(tr, attempt, runtime.roster),
    )


async def dismiss_command(update: Update, context: DutyContext) -> None:
    """``/dismiss <#> <reason>``."""
    tr, runtime = context.tr, context.runtime
    parsed = await _arguments(update, context, tr._("Usage: /dismiss <number> <reason>"), 2)
    if parsed is None:
        return
    number, words = parsed
    reason = clean_text(" ".join(words))[:MAX_REASON]
    await _act(
        update,
        context,
        lambda session, actor: flows.dismiss(session, runtime, actor, number, reason),
        lambda attempt: messaging.dismiss_answer(tr, attempt, runtime.roster),
    )


async def merge_command(update: Update, context: DutyContext) -> None:
    """``/merge <#> <into #>``."""
    tr, runtime = context.tr, context.runtime
    usage = tr._("Usage: /merge <number> <into number>, for example /merge 18 17")
    parsed = await _arguments(update, context, usage, 2)
    into = parse_number(parsed[1][0]) if parsed is not None else None
    if parsed is None:
        return
    if into is None:
        await reply(update, context, usage)
        return
    number, target = parsed[0], into
    await _act(
        update,
        context,
        lambda session, actor: flows.merge(session, runtime, actor, number, target),
        lambda attempt: messaging.merge_answer(tr, attempt, runtime.roster, target),
    )


async def level_command(update: Update, context: DutyContext) -> None:
    """``/level <#> <I|II|III|IV>``: the deadlines follow the new level."""
    tr, runtime = context.tr, context.runtime
    usage = tr._("Usage: /level <number> <I|II|III|IV>, for example /level 17 II")
    parsed = await _arguments(update, context, usage, 2)
    if parsed is None:
        return
    number, (wanted, *_) = parsed
    level = parse_level(wanted)
    if level not in ASSESSED_LEVELS or level is None:
        await reply(update, context, usage)
        return
    await _act(
        update,
        context,
        lambda session, actor: report_flows.change_level(session, runtime, actor, number, level),
        lambda attempt: messaging.level_answer(tr, attempt, runtime.roster),
    )


async def flag_command(update: Update, context: DutyContext) -> None:
    """``/sensitive <#> [on|off]`` and ``/drill <#> [on|off]``."""
    tr, runtime = context.tr, context.runtime
    message = update.effective_message
    flag = (message.text or "/").split()[0].lstrip("/").split("@")[0] if message else ""
    usage = tr._("Usage: /{command} <number> [on|off], for example /{command} 17 on").format(
        command=flag
    )
    parsed = await _arguments(update, context, usage, 1)
    if parsed is None:
        return
    number, rest = parsed
    value = rest[0].lower() if rest else "on"
    if value not in ("on", "off") or flag not in ("sensitive", "drill"):
        await reply(update, context, usage)
        return
    on = value == "on"
    await _act(
        update,
        context,
        lambda session, actor: flows.set_flag(session, runtime, actor, number, flag, on),
        lambda attempt: messaging.flag_answer(tr, attempt, runtime.roster, flag, on),
    )
