"""What people read about who is who (SPEC §5, §3.5): greetings, invites and their redemption,
``/whoami``, the language choice, ``/oncall`` and ``/roster``. Functions of a ``Translator``;
button markups are plain dicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import callback_data
from bot.duty_table import Reachability, gap_lines, on_duty_lines
from bot.i18n import LANGUAGE_NAMES, N_, Translator
from bot.identity.service import RedeemOutcome
from bot.render import local_time, position_name, role_list
from bot.roster import Person, Roster
from bot.settings import LANGUAGES

# --- greeting and invites ----------------------------------------------------------------


def greeting(tr: Translator, roster: Roster, person: Person) -> str:
    """``/start`` for a person in the roster."""
    return tr._(
        "Hello, {name}! You are {roles} at {unit}.\nSend /help to see what you can do here."
    ).format(
        name=person.name, roles=role_list(tr, person.roles), unit=roster.units[person.unit].name
    )


def already_linked(tr: Translator, person: Person) -> str:
    """``/start <code>`` from an account that is linked already."""
    return tr._("Your account is already linked to {name}.").format(name=person.name)


REDEEM_REFUSALS = {
    RedeemOutcome.UNKNOWN: N_(
        "This invite link is not valid. Ask your administrator for a new one."
    ),
    RedeemOutcome.USED: N_(
        "This invite link has already been used. Ask your administrator for a new one."
    ),
    RedeemOutcome.EXPIRED: N_(
        "This invite link has expired. Ask your administrator for a new one."
    ),
    RedeemOutcome.ACCOUNT_TAKEN: N_("This Telegram account is already linked to somebody else."),
    RedeemOutcome.PERSON_GONE: N_("This invite link is for a person no longer in the roster."),
    RedeemOutcome.REVOKED: N_(
        "This invite link was replaced by a newer one. Use the newest link you were sent."
    ),
    RedeemOutcome.MOVE_ASKED: N_(
        "You are already linked from another Telegram account. I have asked the administrator "
        "to confirm the move; you will be told here."
    ),
}


def redeem_answer(
    tr: Translator,
    roster: Roster,
    outcome: RedeemOutcome,
    person: Person | None,
    telegram_id: int,
) -> str:
    """What the person opening an invite link is told."""
    if outcome is RedeemOutcome.LINKED and person is not None:
        return tr._(
            "Welcome, {name}! Your Telegram account is now linked: you are {roles} at "
            "{unit}.\nSend /help to see what you can do here."
        ).format(
            name=person.name,
            roles=role_list(tr, person.roles),
            unit=roster.units[person.unit].name,
        )
    refusal = tr._(REDEEM_REFUSALS[outcome])
    return refusal + "\n" + tr._("Your Telegram id is {id}.").format(id=telegram_id)


def invite_refusal(tr: Translator) -> str:
    """``/invite`` from someone who is not an administrator."""
    return tr._("Only an administrator can invite people.")


def invite_usage(tr: Translator) -> str:
    """How ``/invite`` is used."""
    return tr._("Usage: /invite <person-id>, for example /invite wang.fang")


def no_such_person(tr: Translator, person_id: str) -> str:
    """``/invite`` for an id the roster does not know."""
    return tr._("There is nobody with the id {id} in the roster.").format(id=person_id[:64])


def needs_no_invite(tr: Translator, person: Person) -> str:
    """``/invite`` for a person whose Telegram id is in the roster file."""
    return tr._("{name} already has a Telegram id in the roster file; no invite is needed.").format(
        name=person.name
    )


def invite_text(tr: Translator, person: Person, expires: datetime, tz: ZoneInfo, link: str) -> str:
    """The invite link for the administrator to pass on."""
    return tr._(
        "Invite for {name}. Send them this link; it works once, until {expires}:\n{link}"
    ).format(name=person.name, expires=local_time(expires, tz), link=link)


# --- who am I, language ------------------------------------------------------------------


def whoami_text(
    tr: Translator,
    roster: Roster,
    tz: ZoneInfo,
    now: datetime,
    person: Person,
    telegram_id: int,
    language: str,
) -> str:
    """``/whoami``: identity, and the positions held now (or the next shift)."""
    lines = [
        f"{person.name} ({person.id})",
        tr._("Unit: {unit}").format(unit=roster.units[person.unit].name),
        tr._("Roles: {roles}").format(roles=role_list(tr, person.roles)),
        tr._("Telegram id: {id}").format(id=telegram_id),
        tr._("Language: {language}").format(language=LANGUAGE_NAMES[language]),
    ]
    holdings = roster.holdings(person.id, now)
    if holdings:
        lines.append(tr._("On duty now:"))
        for holding in holdings:
            until = (
                tr._("until {time}").format(time=local_time(holding.until, tz))
                if holding.until
                else tr._("no handover in the next 14 days")
            )
            lines.append(
                f"• {position_name(tr, holding.position)}, "
                f"{roster.units[holding.unit].name}, {until}"
            )
        return "\n".join(lines)
    lines.append(tr._("Not on duty now."))
    upcoming = roster.next_holding(person.id, now)
    if upcoming is not None:
        moment, holding = upcoming
        lines.append(
            tr._("Next shift: {position}, {unit}, from {time}.").format(
                position=position_name(tr, holding.position),
                unit=roster.units[holding.unit].name,
                time=local_time(moment, tz),
            )
        )
    return "\n".join(lines)


def language_buttons() -> dict[str, Any]:
    """One button per supported language."""
    row = [
        {"text": LANGUAGE_NAMES[code], "callback_data": callback_data.encode("lang", code)}
        for code in LANGUAGES
    ]
    return {"inline_keyboard": [row]}


def language_set(tr: Translator, language: str) -> str:
    """The confirmation of ``/lang``, in the language just chosen."""
    return tr._("Language set to {language}.").format(language=LANGUAGE_NAMES[language])


# --- /oncall and /roster -----------------------------------------------------------------


def oncall_refusal(tr: Translator) -> str:
    """``/oncall`` from someone who may not see the duty roster."""
    return tr._("Only duty officers, leaders and supervisors can see the duty roster.")


def no_such_unit(tr: Translator, unit_id: str) -> str:
    """``/oncall <unit>`` for an id the roster does not know."""
    return tr._("There is no unit with the id {id}.").format(id=unit_id[:64])


def unit_outside(tr: Translator, unit_id: str) -> str:
    """``/oncall <unit>`` for a unit outside the reader's scope."""
    return tr._("The unit {id} is outside what you may see.").format(id=unit_id)


def oncall_text(
    tr: Translator, roster: Roster, now: datetime, units: list[str], reach: Reachability
) -> str:
    """Who holds each position of ``units`` now, reachable or not, the next handover, gaps."""
    lines = [
        tr._("On duty now:"),
        *on_duty_lines(roster, tr, now, units, reach),
        "",
        *gap_lines(roster, tr, now, units),
    ]
    return "\n".join(lines)


def roster_text(tr: Translator, roster: Roster, now: datetime, reach: Reachability) -> str:
    """``/roster``: everyone on duty in every unit, and the gaps."""
    lines = [
        *on_duty_lines(roster, tr, now, roster.units, reach),
        "",
        *gap_lines(roster, tr, now),
    ]
    return "\n".join(lines)


def roster_refusal(tr: Translator) -> str:
    """``/roster`` from someone who is not an administrator."""
    return tr._("Only an administrator can manage the roster.")


def roster_usage(tr: Translator) -> str:
    """How ``/roster`` is used."""
    return tr._("Usage: /roster or /roster reload")


def roster_reloaded(tr: Translator, roster: Roster) -> str:
    """The roster was re-read."""
    return tr._("Roster reloaded: {units} units, {people} people.").format(
        units=len(roster.units), people=len(roster.people)
    )


def roster_not_reloaded(tr: Translator, error: Exception) -> str:
    """The roster file was refused; the old roster stays."""
    return tr._("The roster was not reloaded; the old one stays in force:\n{error}").format(
        error=error
    )


def move_asked(tr: Translator, name: str, person_id: str, telegram_id: int) -> str:
    """To the administrator who made the invite: a linked person opened it from another
    account; nothing changed until they confirm."""
    return tr._(
        "{name} ({person}) opened your invite link from another Telegram account (id {id}), "
        "but is already linked. Nothing has changed. Move {name} to the new account? The old "
        "account will be unlinked."
    ).format(name=name, person=person_id, id=telegram_id)


def move_button(tr: Translator, invite_id: int) -> dict[str, Any]:
    """Confirm the move."""
    return {
        "inline_keyboard": [
            [
                {
                    "text": tr._("Move to the new account"),
                    "callback_data": callback_data.encode("mov", str(invite_id)),
                }
            ]
        ]
    }


def move_done(tr: Translator, name: str) -> str:
    """To the administrator: the move is made."""
    return tr._("{name} is now linked to the new account.").format(name=name)


def move_gone(tr: Translator) -> str:
    """To the administrator: nothing waits (done already, replaced, or not theirs)."""
    return tr._("There is no account move waiting for this invite.")
