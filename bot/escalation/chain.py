"""The chain of command walked when a deadline is missed (SPEC §3.3), snapshotted at the start.

``officer → backup → leader → head → parent`` by default, where ``parent`` stands for the
officer and leader of each unit above, up to the root. Empty rungs are dropped; a person appears
only on the first rung that names them.
"""

from __future__ import annotations

from datetime import datetime

from bot.roster import Roster
from bot.settings import Settings

Rung = list[dict[str, str]]  # [{"person", "unit", "position"}]


def snapshot_chain(
    roster: Roster,
    settings: Settings,
    unit_id: str,
    at: datetime,
    *,
    skip: tuple[str, ...] = (),
) -> list[Rung]:
    """The rungs as they stand at ``at``; positions in ``skip`` (already told) are left out."""
    rungs: list[Rung] = []
    seen: set[str] = set()

    def rung_of(unit: str, positions: tuple[str, ...]) -> Rung:
        found: Rung = []
        for position in positions:
            for person in roster.holders(unit, position, at):
                if person not in seen:
                    seen.add(person)
                    found.append({"person": person, "unit": unit, "position": position})
        return found

    for step in settings.escalation.chain:
        if step in skip:
            continue
        if step == "parent":
            for ancestor in roster.ancestors(unit_id):
                rung = rung_of(ancestor, ("officer", "leader"))
                if rung:
                    rungs.append(rung)
        else:
            rung = rung_of(unit_id, (step,))
            if rung:
                rungs.append(rung)
    return rungs
