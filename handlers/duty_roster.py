"""``/oncall [unit]`` (who is on duty now) and ``/roster [reload]`` (admin)."""

from __future__ import annotations

import logging

from telegram import Update

from bot.directory import reachability
from bot.duty_table import gap_lines, on_duty_lines
from bot.errors import ConfigError
from bot.identity.flows import reload_roster
from handlers.common.context import Caller, DutyContext, require_caller
from handlers.common.respond import reply

log = logging.getLogger(__name__)


def oncall_scope(context: DutyContext, caller: Caller) -> list[str]:
    """The units a caller may see: a supervisor their subtree, an admin all, others their unit."""
    roster = context.runtime.roster
    if caller.has_role("admin"):
        return list(roster.units)
    if caller.has_role("supervisor"):
        return roster.descendants(caller.person.unit)
    return [caller.person.unit]


async def oncall(update: Update, context: DutyContext) -> None:
    """Who holds each position now, reachable or not, and the next handover."""
    message = update.effective_message
    if message is None:
        return
    caller = require_caller(context)
    tr, runtime = context.tr, context.runtime
    if not caller.has_role("officer", "leader", "supervisor", "admin"):
        await reply(
            update,
            context,
            tr._("Only duty officers, leaders and supervisors can see the duty roster."),
        )
        return
    scope = oncall_scope(context, caller)
    units = scope
    if context.args:
        wanted = context.args[0]
        if wanted not in runtime.roster.units:
            await reply(
                update, context, tr._("There is no unit with the id {id}.").format(id=wanted[:64])
            )
            return
        if wanted not in scope:
            await reply(
                update,
                context,
                tr._("The unit {id} is outside what you may see.").format(id=wanted),
            )
            return
        units = [wanted]
    async with runtime.database.sessions() as session:
        reach = await reachability(session, runtime.roster)
    now = runtime.now()
    lines = [
        tr._("On duty now:"),
        *on_duty_lines(runtime.roster, tr, now, units, reach),
        "",
        *gap_lines(runtime.roster, tr, now, units),
    ]
    await reply(update, context, "\n".join(lines))


async def roster_command(update: Update, context: DutyContext) -> None:
    """``/roster`` shows everyone on duty; ``/roster reload`` re-reads the roster file."""
    message = update.effective_message
    if message is None:
        return
    caller = require_caller(context)
    tr, runtime = context.tr, context.runtime
    if not caller.has_role("admin"):
        await reply(update, context, tr._("Only an administrator can manage the roster."))
        return
    args = context.args or []
    if args and args != ["reload"]:
        await reply(update, context, tr._("Usage: /roster or /roster reload"))
        return
    if args == ["reload"]:
        try:
            roster = await reload_roster(runtime)
        except ConfigError as exc:
            log.warning("roster reload refused: %s", exc)
            await reply(
                update,
                context,
                tr._("The roster was not reloaded; the old one stays in force:\n{error}").format(
                    error=exc
                ),
            )
            return
        await reply(
            update,
            context,
            tr._("Roster reloaded: {units} units, {people} people.").format(
                units=len(roster.units), people=len(roster.people)
            ),
        )
        return
    async with runtime.database.sessions() as session:
        reach = await reachability(session, runtime.roster)
    now = runtime.now()
    lines = [
        *on_duty_lines(runtime.roster, tr, now, runtime.roster.units, reach),
        "",
        *gap_lines(runtime.roster, tr, now),
    ]
    await reply(update, context, "\n".join(lines))
