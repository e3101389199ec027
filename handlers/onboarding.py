"""Onboarding (SPEC §5): `/start` greets people; `/invite` and `/start <code>` link accounts."""

from __future__ import annotations

from telegram import Update
from telegram.helpers import create_deep_linked_url

from bot.identity.service import RedeemOutcome, create_invite, redeem_invite
from bot.render import local_time, role_list
from bot.roster import Person
from handlers.common.context import DutyContext, require_caller
from handlers.common.menus import publish_commands_for
from handlers.common.respond import reply, reply_in


async def start(update: Update, context: DutyContext) -> None:
    """Greet a known person by name, or redeem the invite code of a deep link."""
    message = update.effective_message
    if message is None:
        return
    tr = context.tr
    if context.args:
        await redeem(update, context, context.args[0])
        return
    caller = require_caller(context)
    person = caller.person
    unit = context.runtime.roster.units[person.unit]
    await reply(
        update,
        context,
        tr._(
            "Hello, {name}! You are {roles} at {unit}.\nSend /help to see what you can do here."
        ).format(name=person.name, roles=role_list(tr, person.roles), unit=unit.name),
    )
    await publish_commands_for(context.application, context.runtime, person.id, caller.telegram_id)


async def redeem(update: Update, context: DutyContext, code: str) -> None:
    """Link the sender's Telegram account to the person the invite code was made for."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    tr = context.tr
    if context.caller is not None:
        await reply(
            update,
            context,
            tr._("Your account is already linked to {name}.").format(
                name=context.caller.person.name
            ),
        )
        return
    runtime = context.runtime
    async with runtime.database.transaction() as session:
        outcome, person = await redeem_invite(
            session, runtime.roster, code=code, telegram_id=user.id, at=runtime.now()
        )
        reply_in(session, update, context, redeem_answer(context, outcome, person, user.id))
    runtime.outbox_committed()
    if outcome is RedeemOutcome.LINKED and person is not None:
        await publish_commands_for(context.application, runtime, person.id, user.id)


def redeem_answer(
    context: DutyContext, outcome: RedeemOutcome, person: Person | None, telegram_id: int
) -> str:
    """What the person opening an invite link is told."""
    tr = context.tr
    if outcome is RedeemOutcome.LINKED and person is not None:
        unit = context.runtime.roster.units[person.unit]
        return tr._(
            "Welcome, {name}! Your Telegram account is now linked: you are {roles} at "
            "{unit}.\nSend /help to see what you can do here."
        ).format(name=person.name, roles=role_list(tr, person.roles), unit=unit.name)
    refusals = {
        RedeemOutcome.UNKNOWN: tr._(
            "This invite link is not valid. Ask your administrator for a new one."
        ),
        RedeemOutcome.USED: tr._(
            "This invite link has already been used. Ask your administrator for a new one."
        ),
        RedeemOutcome.EXPIRED: tr._(
            "This invite link has expired. Ask your administrator for a new one."
        ),
        RedeemOutcome.ACCOUNT_TAKEN: tr._(
            "This Telegram account is already linked to somebody else."
        ),
        RedeemOutcome.PERSON_GONE: tr._(
            "This invite link is for a person no longer in the roster."
        ),
    }
    return refusals[outcome] + "\n" + tr._("Your Telegram id is {id}.").format(id=telegram_id)


async def invite(update: Update, context: DutyContext) -> None:
    """``/invite <person-id>`` (admin): a one-time deep link that binds an account to the person."""
    message = update.effective_message
    if message is None:
        return
    caller = require_caller(context)
    tr, runtime = context.tr, context.runtime
    if not caller.has_role("admin"):
        await reply(update, context, tr._("Only an administrator can invite people."))
        return
    if len(context.args or []) != 1:
        await reply(
            update, context, tr._("Usage: /invite <person-id>, for example /invite wang.fang")
        )
        return
    person_id = (context.args or [""])[0]
    person = runtime.roster.people.get(person_id)
    if person is None:
        await reply(
            update,
            context,
            tr._("There is nobody with the id {id} in the roster.").format(id=person_id[:64]),
        )
        return
    if person.telegram_id is not None:
        await reply(
            update,
            context,
            tr._(
                "{name} already has a Telegram id in the roster file; no invite is needed."
            ).format(name=person.name),
        )
        return
    async with runtime.database.transaction() as session:
        code, expires = await create_invite(
            session,
            person_id=person.id,
            created_by=caller.person.id,
            at=runtime.now(),
            valid_for=runtime.settings.invite_valid,
        )
        link = create_deep_linked_url(context.bot.username, code)
        text = tr._(
            "Invite for {name}. Send them this link; it works once, until {expires}:\n{link}"
        ).format(
            name=person.name, expires=local_time(expires, runtime.settings.timezone), link=link
        )
        reply_in(session, update, context, text)
    runtime.outbox_committed()
