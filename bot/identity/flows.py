"""Identity use cases: loading the roster into the database at start and reloading it, invites
and their redemption, the language choice, and who is on duty (``/oncall``, ``/roster``) —
each asked of ``bot.access`` where it is not open to everyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import Action, Actor, UnitSubject, may, scope
from bot.configuration import load_configuration
from bot.db.migrate import upgrade
from bot.delivery.notify import notify
from bot.directory import reachability
from bot.duty_table import Reachability
from bot.identity import messaging
from bot.identity.in_force import roster_in_force
from bot.identity.service import (
    RedeemOutcome,
    create_invite,
    invite_by_code,
    pending_move,
    redeem_invite,
    set_language,
    sync_roster,
)
from bot.identity.service import confirm_move as confirm_move_service
from bot.roster import Person, Roster
from bot.runtime import Runtime


async def prepare_database(runtime: Runtime) -> None:
    """Apply migrations and bring the people and units tables in line with the roster."""
    await upgrade(runtime.database)
    async with runtime.database.transaction() as session:
        await sync_roster(session, runtime.roster, runtime.now())
        runtime.roster = await roster_in_force(session, runtime.roster, runtime.now())


async def reload_roster(runtime: Runtime, actor: Actor) -> Roster | None:
    """Re-read the roster file (an administrator only: ``None`` for anyone else); a bad one
    raises ``ConfigError`` and the old one stays."""
    if not may(actor, Action.MANAGE_ROSTER):
        return None
    configuration = load_configuration(runtime.settings.config_file)
    async with runtime.database.transaction() as session:
        await sync_roster(session, configuration.roster, runtime.now())
        roster = await roster_in_force(session, configuration.roster, runtime.now())
    runtime.roster = roster
    return runtime.roster


def scope_units(roster: Roster, actor: Actor) -> list[str]:
    """The actor's scope (``bot.access.scope``) in a stable order: their own unit first, then
    the roster's order."""
    units = scope(actor)
    own = actor.person.unit
    return [own] * (own in units) + [u for u in roster.units if u in units and u != own]


# --- invites -----------------------------------------------------------------------------


class InviteOutcome(Enum):
    """What ``/invite`` did."""

    NOT_ALLOWED = "not_allowed"
    NO_SUCH_PERSON = "no_such_person"
    NOT_NEEDED = "not_needed"  # the roster file has their Telegram id
    CREATED = "created"


@dataclass(frozen=True)
class Invite:
    """An invite made (its code is shown once), or why none was."""

    outcome: InviteOutcome
    person: Person | None = None
    code: str = ""
    expires: datetime | None = None


async def invite(session: AsyncSession, runtime: Runtime, actor: Actor, person_id: str) -> Invite:
    """Make a one-time code that links a Telegram account to ``person_id``."""
    if not may(actor, Action.INVITE):
        return Invite(InviteOutcome.NOT_ALLOWED)
    person = runtime.roster.people.get(person_id)
    if person is None:
        return Invite(InviteOutcome.NO_SUCH_PERSON)
    if person.telegram_id is not None:
        return Invite(InviteOutcome.NOT_NEEDED, person)
    code, expires = await create_invite(
        session,
        person_id=person.id,
        created_by=actor.id,
        at=runtime.now(),
        valid_for=runtime.settings.invite_valid,
    )
    return Invite(InviteOutcome.CREATED, person, code, expires)


async def redeem(
    session: AsyncSession, runtime: Runtime, code: str, telegram_id: int
) -> tuple[RedeemOutcome, Person | None]:
    """Link ``telegram_id`` to the person an invite code was made for (once). A person already
    linked to another account is not moved: the administrator who made the invite is asked to
    confirm, with a button."""
    outcome, person = await redeem_invite(
        session, runtime.roster, code=code, telegram_id=telegram_id, at=runtime.now()
    )
    if outcome is RedeemOutcome.MOVE_ASKED and person is not None:
        invite = await invite_by_code(session, code)
        if invite is not None and invite.created_by:
            invite_id, name = invite.id, person.name
            await notify(
                session,
                runtime.audience,
                [invite.created_by],
                lambda tr: messaging.move_asked(tr, name, person.id, telegram_id),
                markup=lambda tr: messaging.move_button(tr, invite_id),
            )
    return outcome, person


async def confirm_move(
    session: AsyncSession, runtime: Runtime, actor: Actor, invite_id: int
) -> tuple[RedeemOutcome, Person | None] | None:
    """The administrator's Confirm button: the person moves to the new account. ``None`` when
    the actor may not, or nothing waits for confirmation (already done, revoked, unknown)."""
    if not may(actor, Action.INVITE):
        return None
    invite = await pending_move(session, invite_id)
    if invite is None:
        return None
    outcome, person = await confirm_move_service(
        session, runtime.roster, invite, actor.id, runtime.now()
    )
    if outcome is RedeemOutcome.LINKED and person is not None:
        roster = runtime.roster
        await notify(
            session,
            runtime.audience,
            [person.id],
            lambda tr: messaging.redeem_answer(tr, roster, outcome, person, 0).split("\n")[0],
        )
    return outcome, person


async def choose_language(
    session: AsyncSession, runtime: Runtime, person_id: str, language: str
) -> None:
    """Remember the person's own language choice (it beats the roster's and Telegram's)."""
    await set_language(session, person_id, language, runtime.now())


# --- who is on duty ----------------------------------------------------------------------


class OncallOutcome(Enum):
    """What ``/oncall`` shows."""

    NOT_ALLOWED = "not_allowed"
    NO_SUCH_UNIT = "no_such_unit"
    OUTSIDE = "outside"
    SHOWN = "shown"


@dataclass(frozen=True)
class Oncall:
    """The units to show and who among their people the bot can reach, or why not."""

    outcome: OncallOutcome
    units: list[str]
    reach: Reachability | None = None


async def oncall(
    session: AsyncSession, runtime: Runtime, actor: Actor, unit_id: str | None
) -> Oncall:
    """``/oncall [unit]``: the actor's scope, or one unit of it."""
    if not may(actor, Action.ONCALL):
        return Oncall(OncallOutcome.NOT_ALLOWED, [])
    if unit_id is None:
        units = scope_units(runtime.roster, actor)
    elif unit_id not in runtime.roster.units:
        return Oncall(OncallOutcome.NO_SUCH_UNIT, [])
    elif not may(actor, Action.ONCALL, UnitSubject(unit_id)):
        return Oncall(OncallOutcome.OUTSIDE, [])
    else:
        units = [unit_id]
    return Oncall(OncallOutcome.SHOWN, units, await reachability(session, runtime.roster))


async def roster_view(session: AsyncSession, runtime: Runtime, actor: Actor) -> Reachability | None:
    """``/roster``: who the bot can reach, for the whole duty roster (an administrator only)."""
    if not may(actor, Action.MANAGE_ROSTER):
        return None
    return await reachability(session, runtime.roster)
