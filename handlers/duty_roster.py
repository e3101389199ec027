"""``/oncall [unit]`` (who is on duty now) and ``/roster [reload]`` (admin)."""

from __future__ import annotations

import logging

from telegram import Update

from bot.errors import ConfigError
from bot.identity import flows, messaging
from bot.identity.flows import OncallOutcome
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply

log = logging.getLogger(__name__)


async def oncall(update: Update, context: DutyContext) -> None:
    """Who holds each position now, reachable or not, and the next handover."""
    if update.effective_message is None:
        return
    tr, runtime = context.tr, context.runtime
    wanted = context.args[0] if context.args else None
    async with runtime.database.sessions() as session:
        shown = await flows.oncall(session, runtime, actor_of(context), wanted)
    if shown.outcome is OncallOutcome.NOT_ALLOWED:
        text = messaging.oncall_refusal(tr)
    elif shown.outcome is OncallOutcome.NO_SUCH_UNIT:
        text = messaging.no_such_unit(tr, wanted or "")
    elif shown.outcome is OncallOutcome.OUTSIDE:
        text = messaging.unit_outside(tr, wanted or "")
    else:
        assert shown.reach is not None
        text = messaging.oncall_text(tr, runtime.roster, runtime.now(), shown.units, shown.reach)
    await reply(update, context, text)


async def roster_command(update: Update, context: DutyContext) -> None:
    """``/roster`` shows everyone on duty; ``/roster reload`` re-reads the roster file."""
    if update.effective_message is None:
        return
    tr, runtime = context.tr, context.runtime
    actor = actor_of(context)
    args = context.args or []
    if args == ["reload"]:
        try:
            roster = await flows.reload_roster(runtime, actor)
        except ConfigError as exc:
            log.warning("roster reload refused: %s", exc)
            await reply(update, context, messaging.roster_not_reloaded(tr, exc))
            return
        text = messaging.roster_reloaded(tr, roster) if roster else messaging.roster_refusal(tr)
        await reply(update, context, text)
        return
    async with runtime.database.sessions() as session:
        reach = await flows.roster_view(session, runtime, actor)
    if reach is None:
        text = messaging.roster_refusal(tr)
    elif args:
        text = messaging.roster_usage(tr)
    else:
        text = messaging.roster_text(tr, runtime.roster, runtime.now(), reach)
    await reply(update, context, text)
