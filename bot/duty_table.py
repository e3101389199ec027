"""The on-duty table and the gap list as text: ``check-config``, ``/roster``, ``/oncall``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.i18n import N_, Translator
from bot.roster import Roster

POSITION_NAMES = {
    "officer": N_("Officer"),
    "backup": N_("Backup"),
    "leader": N_("Leader"),
    "head": N_("Head"),
}


def with_phone(roster: Roster, person_id: str) -> str:
    """A person's name and, when the roster has it, their phone number (Telegram makes a number
    in a message tappable; ``tel:`` links are not allowed in Telegram's text)."""
    person = roster.people[person_id]
    return f"{person.name} ☎ {person.phone}" if person.phone else person.name


def local_time(moment: datetime, roster: Roster) -> str:
    """A moment in the roster's (the configured) timezone as ``YYYY-MM-DD HH:MM``."""
    return moment.astimezone(roster.timezone).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Reachability:
    """What the bot knows of people's Telegram accounts; empty when the database is not read."""

    known: bool = False
    linked: frozenset[str] = frozenset()
    unreachable: frozenset[str] = field(default_factory=frozenset)

    def mark(self, tr: Translator, person_id: str) -> str:
        """A note after a person's name when the bot cannot message them."""
        if not self.known:
            return ""
        if person_id in self.unreachable:
            return " " + tr._("(unreachable: has not started the bot or blocked it)")
        if person_id not in self.linked:
            return " " + tr._("(no Telegram account linked)")
        return ""


def on_duty_lines(
    roster: Roster,
    tr: Translator,
    at: datetime,
    units: Iterable[str],
    reach: Reachability | None = None,
) -> list[str]:
    """Who holds each position of each unit at ``at``, with the next handover."""
    reach = reach or Reachability()
    lines: list[str] = []
    for unit_id in units:
        unit = roster.units[unit_id]
        lines.append(f"{unit.name} ({unit.id})")
        for position in roster.positions_of(unit_id):
            holders = roster.holders(unit_id, position, at)
            names = ", ".join(with_phone(roster, p) + reach.mark(tr, p) for p in holders)
            handover = roster.next_handover(unit_id, position, at)
            when = (
                tr._("next handover {time}").format(time=local_time(handover, roster))
                if handover
                else tr._("no handover in the next 14 days")
            )
            who = names or "⚠️ " + tr._("nobody (gap)")
            lines.append(f"  {tr._(POSITION_NAMES[position])}: {who} — {when}")
    return lines


def gap_lines(
    roster: Roster, tr: Translator, at: datetime, units: Iterable[str] | None = None
) -> list[str]:
    """The gaps in the next 14 days, or a line saying there are none."""
    wanted = set(units) if units is not None else None
    gaps = [g for g in roster.gaps(at) if wanted is None or g.unit in wanted]
    if not gaps:
        return [tr._("No gaps in the next 14 days.")]
    lines = [tr._("Gaps in the next 14 days:")]
    for gap in gaps:
        lines.append(
            f"  {roster.units[gap.unit].name} — {tr._(POSITION_NAMES[gap.position])}: "
            f"{local_time(gap.start, roster)} → {local_time(gap.end, roster)}"
        )
    return lines


def unreachable_lines(roster: Roster, tr: Translator, reach: Reachability) -> list[str]:
    """Everyone in the roster the bot cannot message, with the reason; empty when all are fine."""
    if not reach.known:
        return []
    lines = [
        f"  {person.name} ({person.id}){reach.mark(tr, person.id)}"
        for person in roster.people.values()
        if reach.mark(tr, person.id)
    ]
    return [tr._("People the bot cannot message:"), *lines] if lines else []
