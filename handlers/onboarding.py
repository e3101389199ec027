"""Onboarding (SPEC §5): `/start` greets people; `/invite` and `/start <code>` link accounts."""

from __future__ import annotations

from telegram import Update
from telegram.helpers import create_deep_linked_url

from bot import callback_data
from bot.access import Action, may
from bot.identity import flows, messaging
from bot.identity.flows import InviteOutcome
from bot.identity.service import RedeemOutcome
from bot.parsing import parse_number
from handlers.common.buttons import answer_button, answer_soon
from handlers.common.context import DutyContext, actor_of, require_caller
from handlers.common.menus import publish_commands_for
from handlers.common.respond import reply, reply_in


async def start(update: Update, context: DutyContext) -> None:
    """Greet a known person by name, or redeem the invite code of a deep link."""
    if update.effective_message is None:
        return
    if context.args:
        await redeem(update, context, context.args[0])
        return
    caller, runtime = require_caller(context), context.runtime
    await reply(update, context, messaging.greeting(context.tr, runtime.roster, caller.person))
    await publish_commands_for(context.application, runtime, caller.person.id, caller.telegram_id)


async def redeem(update: Update, context: DutyContext, code: str) -> None:
    """Link the sender's Telegram account to the person the invite code was made for."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    tr, runtime = context.tr, context.runtime
    if context.caller is not None:
        await reply(update, context, messaging.already_linked(tr, context.caller.person))
        return
    async with runtime.database.transaction() as session:
        outcome, person = await flows.redeem(session, runtime, code, user.id)
        text = messaging.redeem_answer(tr, runtime.roster, outcome, person, user.id)
        reply_in(session, update, context, text)
    if outcome is RedeemOutcome.LINKED and person is not None:
        await publish_commands_for(context.application, runtime, person.id, user.id)


async def invite(update: Update, context: DutyContext) -> None:
    """``/invite <person-id>`` (admin): a one-time deep link that binds an account to the person."""
    if update.effective_message is None:
        return
    tr, runtime = context.tr, context.runtime
    actor = actor_of(context)
    if not may(actor, Action.INVITE):  # before the usage: a stranger to it learns nothing more
        await reply(update, context, messaging.invite_refusal(tr))
        return
    args = context.args or []
    if len(args) != 1:
        await reply(update, context, messaging.invite_usage(tr))
        return
    async with runtime.database.transaction() as session:
        made = await flows.invite(session, runtime, actor, args[0])
        if made.outcome is InviteOutcome.CREATED and made.person and made.expires:
            link = create_deep_linked_url(context.bot.username, made.code)
            tz = runtime.settings.timezone
            text = messaging.invite_text(tr, made.person, made.expires, tz, link)
        elif made.outcome is InviteOutcome.NOT_NEEDED and made.person:
            text = messaging.needs_no_invite(tr, made.person)
        elif made.outcome is InviteOutcome.NO_SUCH_PERSON:
            text = messaging.no_such_person(tr, args[0])
        else:
            text = messaging.invite_refusal(tr)
        reply_in(session, update, context, text)


async def move_button(update: Update, context: DutyContext) -> None:
    """The administrator confirms that a linked person moves to a new Telegram account."""
    query = update.callback_query
    if query is None:
        return
    tr, runtime = context.tr, context.runtime
    data = callback_data.decode(query.data)
    invite_id = parse_number(data.args[0]) if data else None
    if invite_id is None:
        await answer_button(query, tr._("This button is no longer valid."), show_alert=True)
        return
    async with runtime.database.transaction() as session:
        done = await flows.confirm_move(session, runtime, actor_of(context), invite_id)
        if done is not None and done[0] is RedeemOutcome.LINKED and done[1] is not None:
            text = messaging.move_done(tr, done[1].name)
        elif done is not None:
            text = messaging.redeem_answer(tr, runtime.roster, done[0], done[1], 0).split("\n")[0]
        else:
            text = messaging.move_gone(tr)
        reply_in(session, update, context, text)
    answer_soon(context, query)
