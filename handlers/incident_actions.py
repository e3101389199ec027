"""Acting on an incident (SPEC §3.2): accept, transfer, dismiss, merge — by button or command.

Every path checks role and unit on the server (button data is only a request), changes the
incident with a conditional update, and in the same transaction edits every copy of the alert,
tells the reporter, and queues the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import callback_data
from bot.db.models import IncidentRow
from bot.i18n import Translator
from bot.incidents import service as incidents
from bot.incidents.flows import alert_unit, tell, update_alerts
from bot.incidents.messaging import state_name
from bot.incidents.service import Outcome, may_handle
from bot.levels import OPEN_STATES, initial_report_due, priority_of
from bot.parsing import parse_number
from bot.render import local_time
from bot.runtime import Runtime
from handlers.common.answer import Answer
from handlers.common.context import Caller, DutyContext, require_caller
from handlers.common.respond import reply

PENDING = "pending"
MAX_REASON = 500


async def _load(
    session: AsyncSession,
    context: DutyContext,
    caller: Caller,
    number: int,
    answer: Answer,
    *,
    allow_assignee: bool = False,
) -> IncidentRow | None:
    """The incident, if it exists and the caller may act on it; otherwise answer why not."""
    tr, runtime = context.tr, context.runtime
    incident = await incidents.get(session, number)
    if incident is None:
        answer.say(session, tr._("There is no incident #{number}.").format(number=number))
        return None
    allowed = may_handle(runtime.roster, caller.person, incident.unit_id, runtime.now())
    if not allowed and not (allow_assignee and incident.assignee_id == caller.person.id):
        answer.say(
            session,
            tr._("You may not act on #{number}: it belongs to {unit}.").format(
                number=number, unit=runtime.roster.units[incident.unit_id].name
            ),
        )
        return None
    return incident


async def announce(
    session: AsyncSession,
    runtime: Runtime,
    incident: IncidentRow,
    card: Callable[[Translator], str],
    reporter: Callable[[Translator], str],
) -> None:
    """Show what happened under every copy of the alert, and tell the reporter."""
    await update_alerts(session, runtime, incident, card)
    await tell(session, runtime, incident.reporter_id, reporter, priority=priority_of(incident))


def _not_open(tr: Translator, incident: IncidentRow) -> str:
    return tr._("#{number} is {state}; nothing to do.").format(
        number=incident.id, state=state_name(tr, incident.state)
    )


async def do_accept(update: Update, context: DutyContext, number: int) -> None:
    """First press wins; every copy of the alert shows who accepted and when."""
    caller, runtime = require_caller(context), context.runtime
    tr, answer = context.tr, Answer(update, context)
    async with runtime.database.transaction() as session:
        incident = await _load(session, context, caller, number, answer)
        if incident is not None:
            previous = incident.assignee_id
            change = await incidents.accept(
                session, incident, caller.person, runtime.now(), runtime.settings
            )
            current = change.incident
            if change.outcome is Outcome.DONE:
                name, when = (
                    caller.person.name,
                    local_time(runtime.now(), runtime.settings.timezone),
                )
                unit = runtime.roster.units[current.unit_id].name
                await announce(
                    session,
                    runtime,
                    current,
                    lambda t: (
                        "✅ " + t._("Accepted by {name} at {time}").format(name=name, time=when)
                    ),
                    lambda t: t._("Your report #{number} was accepted by {name} ({unit}).").format(
                        number=number, name=name, unit=unit
                    ),
                )
                if previous and previous != caller.person.id:
                    await tell(
                        session,
                        runtime,
                        previous,
                        lambda t: t._(
                            "#{number} was accepted by {name} ({unit}); it is no longer yours."
                        ).format(number=number, name=name, unit=unit),
                    )
                due = initial_report_due(runtime.settings, current)
                answer.say(
                    session,
                    tr._("You have accepted #{number}. The initial report is due {time}.").format(
                        number=number, time=local_time(due, runtime.settings.timezone)
                    ),
                )
            elif change.outcome is Outcome.ALREADY_ACCEPTED:
                holder = runtime.roster.people.get(current.assignee_id or "")
                answer.say(
                    session,
                    tr._("#{number} is already accepted by {name}.").format(
                        number=number, name=holder.name if holder else "?"
                    ),
                )
            else:
                answer.say(session, _not_open(tr, current))
    await answer.finish()


async def do_transfer(
    update: Update, context: DutyContext, number: int, unit_id: str, reason: str
) -> None:
    """Hand the incident to another unit, whose officers are alerted and must accept."""
    caller, runtime = require_caller(context), context.runtime
    tr, answer = context.tr, Answer(update, context)
    roster = runtime.roster
    async with runtime.database.transaction() as session:
        incident = await _load(session, context, caller, number, answer, allow_assignee=True)
        if incident is not None:
            old_unit = incident.unit_id
            change = await incidents.transfer(
                session, incident, unit_id, reason, caller.person, runtime.now(), runtime.settings
            )
            current = change.incident
            if change.outcome is Outcome.DONE:
                to_name, by = roster.units[unit_id].name, caller.person.name
                await update_alerts(
                    session,
                    runtime,
                    current,
                    lambda t: (
                        "↪️ "
                        + t._("Transferred to {unit} by {name}: {reason}").format(
                            unit=to_name, name=by, reason=reason
                        )
                    ),
                    units=(old_unit,),
                )
                await alert_unit(session, runtime, current, actor=caller.person.id)
                await tell(
                    session,
                    runtime,
                    current.reporter_id,
                    lambda t: t._("Your report #{number} was transferred to {unit}.").format(
                        number=number, unit=to_name
                    ),
                )
                answer.say(
                    session,
                    tr._(
                        "#{number} is transferred to {unit}; its officers are alerted. It stays "
                        "yours until one of them accepts it."
                    ).format(number=number, unit=to_name),
                )
            elif change.outcome is Outcome.SAME_UNIT:
                answer.say(
                    session,
                    tr._("#{number} already belongs to {unit}.").format(
                        number=number, unit=roster.units[unit_id].name
                    ),
                )
            else:
                answer.say(session, _not_open(tr, current))
    await answer.finish()


async def do_dismiss(update: Update, context: DutyContext, number: int, reason: str) -> None:
    """Not an incident: close it with the reason and tell the reporter."""
    caller, runtime = require_caller(context), context.runtime
    tr, answer = context.tr, Answer(update, context)
    async with runtime.database.transaction() as session:
        incident = await _load(session, context, caller, number, answer, allow_assignee=True)
        if incident is not None:
            change = await incidents.dismiss(
                session, incident, reason, caller.person, runtime.now()
            )
            if change.outcome is Outcome.DONE:
                by = caller.person.name
                await announce(
                    session,
                    runtime,
                    change.incident,
                    lambda t: (
                        "🚫 " + t._("Dismissed by {name}: {reason}").format(name=by, reason=reason)
                    ),
                    lambda t: t._(
                        "Your report #{number} was dismissed as not an incident: {reason}"
                    ).format(number=number, reason=reason),
                )
                answer.say(session, tr._("#{number} is dismissed.").format(number=number))
            else:
                answer.say(session, _not_open(tr, change.incident))
    await answer.finish()


async def do_merge(update: Update, context: DutyContext, number: int, into: int) -> None:
    """A duplicate: link it to the other incident and tell its reporter."""
    caller, runtime = require_caller(context), context.runtime
    tr, answer = context.tr, Answer(update, context)
    async with runtime.database.transaction() as session:
        incident = await _load(session, context, caller, number, answer, allow_assignee=True)
        target = await incidents.get(session, into) if incident is not None else None
        if incident is not None and target is None:
            answer.say(session, tr._("There is no incident #{number}.").format(number=into))
        elif incident is not None and target is not None:
            change = await incidents.merge(session, incident, target, caller.person, runtime.now())
            if change.outcome is Outcome.DONE:
                by = caller.person.name
                await announce(
                    session,
                    runtime,
                    change.incident,
                    lambda t: (
                        "🔗 " + t._("Merged into #{into} by {name}").format(into=into, name=by)
                    ),
                    lambda t: t._(
                        "Your report #{number} is the same event as #{into} and was merged into it."
                    ).format(number=number, into=into),
                )
                answer.say(
                    session,
                    tr._("#{number} is merged into #{into}.").format(number=number, into=into),
                )
            elif change.outcome is Outcome.SAME_INCIDENT:
                answer.say(session, tr._("An incident cannot be merged into itself."))
            else:
                answer.say(session, _not_open(tr, change.incident))
    await answer.finish()


async def do_take_over(update: Update, context: DutyContext, number: int) -> None:
    """Someone the escalation reached takes charge; the escalation stops."""
    caller, runtime = require_caller(context), context.runtime
    tr, answer = context.tr, Answer(update, context)
    async with runtime.database.transaction() as session:
        incident = await incidents.get(session, number)
        if incident is None:
            answer.say(session, tr._("There is no incident #{number}.").format(number=number))
        elif not (
            may_handle(runtime.roster, caller.person, incident.unit_id, runtime.now())
            or caller.person.id in await incidents.escalated_to(session, number)
        ):
            answer.say(
                session,
                tr._("You may not act on #{number}: it belongs to {unit}.").format(
                    number=number, unit=runtime.roster.units[incident.unit_id].name
                ),
            )
        else:
            previous = incident.assignee_id
            change = await incidents.take_over(
                session, incident, caller.person, runtime.now(), runtime.settings
            )
            if change.outcome is Outcome.DONE:
                name = caller.person.name
                when = local_time(runtime.now(), runtime.settings.timezone)
                await update_alerts(
                    session,
                    runtime,
                    change.incident,
                    lambda t: (
                        "🙋 " + t._("Taken over by {name} at {time}").format(name=name, time=when)
                    ),
                )
                if previous and previous != caller.person.id:
                    await tell(
                        session,
                        runtime,
                        previous,
                        lambda t: t._("{name} took over #{number}.").format(
                            name=name, number=number
                        ),
                    )
                if previous is None:
                    await tell(
                        session,
                        runtime,
                        change.incident.reporter_id,
                        lambda t: t._(
                            "Your report #{number} was accepted by {name} ({unit})."
                        ).format(
                            number=number,
                            name=name,
                            unit=runtime.roster.units[caller.person.unit].name,
                        ),
                    )
                answer.say(
                    session,
                    tr._("You have taken over #{number}; the escalation has stopped.").format(
                        number=number
                    ),
                )
            elif change.outcome is Outcome.ALREADY_ACCEPTED:
                answer.say(
                    session,
                    tr._("#{number} is already accepted by {name}.").format(
                        number=number, name=change.incident.assignee_id
                    ),
                )
            else:
                answer.say(session, _not_open(tr, change.incident))
    await answer.finish()


async def level_command(update: Update, context: DutyContext) -> None:
    """``/level <#> <I|II|III|IV>``: the deadlines follow the new level."""
    tr = context.tr
    usage = tr._("Usage: /level <number> <I|II|III|IV>, for example /level 17 II")
    args = await _command_number(update, context, usage, 2)
    if args is None:
        return
    level = args[1].upper()
    if level not in ("I", "II", "III", "IV"):
        await reply(update, context, usage)
        return
    caller, runtime = require_caller(context), context.runtime
    answer = Answer(update, context)
    number = parse_number(args[0]) or 0
    async with runtime.database.transaction() as session:
        incident = await _load(session, context, caller, number, answer, allow_assignee=True)
        if incident is not None:
            change = await incidents.change_level(
                session, incident, level, caller.person, runtime.now(), runtime.settings
            )
            if change.outcome is Outcome.DONE:
                answer.say(
                    session,
                    tr._(
                        "#{number} is now level {level}; its deadlines follow the new level."
                    ).format(number=number, level=level),
                )
            else:
                answer.say(session, _not_open(tr, change.incident))
    await answer.finish()


async def flag_command(update: Update, context: DutyContext) -> None:
    """``/sensitive <#> [on|off]`` and ``/drill <#> [on|off]``."""
    tr = context.tr
    message = update.effective_message
    flag = (message.text or "/").split()[0].lstrip("/").split("@")[0] if message else ""
    usage = tr._("Usage: /{command} <number> [on|off], for example /{command} 17 on").format(
        command=flag
    )
    args = await _command_number(update, context, usage, 1)
    if args is None:
        return
    value = args[1].lower() if len(args) > 1 else "on"
    if value not in ("on", "off") or flag not in ("sensitive", "drill"):
        await reply(update, context, usage)
        return
    caller, runtime = require_caller(context), context.runtime
    answer = Answer(update, context)
    number = parse_number(args[0]) or 0
    async with runtime.database.transaction() as session:
        incident = await _load(session, context, caller, number, answer, allow_assignee=True)
        if incident is not None:
            change = await incidents.set_flag(
                session,
                incident,
                flag,
                value == "on",
                caller.person,
                runtime.now(),
                runtime.settings,
            )
            if change.outcome is not Outcome.DONE:
                answer.say(session, _not_open(tr, change.incident))
            elif flag == "sensitive":
                answer.say(
                    session,
                    (
                        tr._(
                            "#{number} is marked sensitive: its deadlines follow level II and its "
                            "reports go straight to the root unit."
                        )
                        if value == "on"
                        else tr._("#{number} is no longer marked sensitive.")
                    ).format(number=number),
                )
            else:
                answer.say(
                    session,
                    (
                        tr._("#{number} is marked as a drill: it is left out of the bulletin.")
                        if value == "on"
                        else tr._("#{number} is no longer marked as a drill.")
                    ).format(number=number),
                )
    await answer.finish()


# --- commands ----------------------------------------------------------------------------


async def _command_number(
    update: Update, context: DutyContext, usage: str, count: int
) -> list[str] | None:
    args = context.args or []
    if len(args) < count or parse_number(args[0]) is None:
        await reply(update, context, usage)
        return None
    return args


async def accept_command(update: Update, context: DutyContext) -> None:
    """``/accept <#>``."""
    args = await _command_number(
        update, context, context.tr._("Usage: /accept <number>, for example /accept 17"), 1
    )
    if args is not None:
        await do_accept(update, context, parse_number(args[0]) or 0)


async def transfer_command(update: Update, context: DutyContext) -> None:
    """``/transfer <#> <unit> <reason>``."""
    tr = context.tr
    usage = tr._(
        "Usage: /transfer <number> <unit> <reason>, for example "
        "/transfer 17 water burst main, not ours"
    )
    args = await _command_number(update, context, usage, 3)
    if args is None:
        return
    unit = args[1]
    if unit not in context.runtime.roster.units:
        await reply(
            update, context, tr._("There is no unit with the id {id}.").format(id=unit[:64])
        )
        return
    reason = " ".join(args[2:])[:MAX_REASON]
    await do_transfer(update, context, parse_number(args[0]) or 0, unit, reason)


async def dismiss_command(update: Update, context: DutyContext) -> None:
    """``/dismiss <#> <reason>``."""
    usage = context.tr._("Usage: /dismiss <number> <reason>")
    args = await _command_number(update, context, usage, 2)
    if args is not None:
        await do_dismiss(
            update, context, parse_number(args[0]) or 0, " ".join(args[1:])[:MAX_REASON]
        )


async def merge_command(update: Update, context: DutyContext) -> None:
    """``/merge <#> <into #>``."""
    usage = context.tr._("Usage: /merge <number> <into number>, for example /merge 18 17")
    args = await _command_number(update, context, usage, 2)
    if args is None:
        return
    into = parse_number(args[1])
    if into is None:
        await reply(update, context, usage)
        return
    await do_merge(update, context, parse_number(args[0]) or 0, into)


# --- buttons -----------------------------------------------------------------------------


async def button(update: Update, context: DutyContext) -> None:
    """Accept, Transfer (choose a unit, then the reason), Dismiss (the reason), Merge."""
    query = update.callback_query
    if query is None:
        return
    data = callback_data.decode(query.data)
    number = parse_number(data.args[0]) if data else None
    if data is None or number is None:
        await query.answer(context.tr._("This button is no longer valid."), show_alert=True)
        return
    if data.action == "acc":
        await do_accept(update, context, number)
    elif data.action == "tko":
        await do_take_over(update, context, number)
    elif data.action == "mrg":
        into = parse_number(data.args[1])
        if into is None:
            await query.answer(context.tr._("This button is no longer valid."), show_alert=True)
            return
        await do_merge(update, context, number, into)
    elif data.action == "trf":
        await _choose_unit(update, context, number)
    elif data.action == "tru":
        await _ask_reason(
            update, context, {"action": "transfer", "incident": number, "unit": data.args[1]}
        )
    elif data.action == "dis":
        await _ask_reason(update, context, {"action": "dismiss", "incident": number})


async def _may_act(update: Update, context: DutyContext, number: int) -> IncidentRow | None:
    """Check before asking questions, so a forged button gets its refusal at once."""
    caller, runtime = require_caller(context), context.runtime
    answer = Answer(update, context)
    async with runtime.database.transaction() as session:
        incident = await _load(session, context, caller, number, answer, allow_assignee=True)
        if incident is not None and incident.state not in OPEN_STATES:
            answer.say(session, _not_open(context.tr, incident))
            incident = None
    if incident is None:
        await answer.finish()
    return incident


async def _choose_unit(update: Update, context: DutyContext, number: int) -> None:
    incident = await _may_act(update, context, number)
    if incident is None:
        return
    runtime, tr = context.runtime, context.tr
    buttons = [
        [
            InlineKeyboardButton(
                unit.name, callback_data=callback_data.encode("tru", str(number), unit.id)
            )
        ]
        for unit in runtime.roster.units.values()
        if unit.id != incident.unit_id
    ]
    if update.callback_query is not None:
        await update.callback_query.answer()
    await reply(
        update,
        context,
        tr._("Transfer #{number} to which unit?").format(number=number),
        reply_markup=InlineKeyboardMarkup(buttons),
    )


async def _ask_reason(update: Update, context: DutyContext, pending: dict[str, Any]) -> None:
    if await _may_act(update, context, int(pending["incident"])) is None:
        return
    if pending["action"] == "transfer" and pending["unit"] not in context.runtime.roster.units:
        if update.callback_query is not None:
            await update.callback_query.answer(
                context.tr._("This button is no longer valid."), show_alert=True
            )
        return
    if context.user_data is not None:
        context.user_data[PENDING] = pending
        context.persist_now = True
    if update.callback_query is not None:
        await update.callback_query.answer()
    tr = context.tr
    question = (
        tr._("Send the reason for transferring #{number} (or /cancel).")
        if pending["action"] == "transfer"
        else tr._("Send the reason for dismissing #{number} (or /cancel).")
    )
    await reply(update, context, question.format(number=pending["incident"]))


def pending_action(context: DutyContext) -> dict[str, Any] | None:
    """The question the bot is waiting to have answered, if any."""
    data = context.user_data or {}
    pending = data.get(PENDING)
    return pending if isinstance(pending, dict) else None


async def answer_pending(update: Update, context: DutyContext, text: str) -> None:
    """The reason for a transfer or dismissal asked for by a button."""
    pending = pending_action(context)
    if pending is None or context.user_data is None:
        return
    if not text.strip() or len(text) > MAX_REASON:
        await reply(
            update,
            context,
            context.tr._("Please send a reason of at most {limit} characters (or /cancel).").format(
                limit=MAX_REASON
            ),
        )
        return
    context.user_data.pop(PENDING, None)
    context.persist_now = True
    number = int(pending["incident"])
    if pending["action"] == "transfer":
        await do_transfer(update, context, number, str(pending["unit"]), text.strip())
    else:
        await do_dismiss(update, context, number, text.strip())


def cancel_pending(context: DutyContext) -> bool:
    """Drop a pending question; tell whether there was one."""
    if context.user_data is not None and context.user_data.pop(PENDING, None) is not None:
        context.persist_now = True
        return True
    return False
