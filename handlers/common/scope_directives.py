"""The directives part of ``/status`` and ``/overdue`` (SPEC §3.6): after their first page, the
directives led by units in the watcher's scope — open ones, or only the late ones."""

from __future__ import annotations

from telegram import Update

from bot.directives import listing
from bot.supervision import flows
from handlers.common.context import DutyContext, actor_of
from handlers.common.respond import reply


async def directives_part(update: Update, context: DutyContext, *, overdue: bool) -> None:
    """Send the directives in scope as one message (nothing when there are none)."""
    runtime = context.runtime
    async with runtime.database.sessions() as session:
        found = await flows.directives_in_scope(
            session, runtime, actor_of(context), overdue_only=overdue
        )
    if found:
        text = listing.scope_directives(
            context.tr, runtime.settings, runtime.roster, found, runtime.now(), overdue=overdue
        )
        await reply(update, context, text)
