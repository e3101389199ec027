"""Match the names written in a spreadsheet to roster people, of any unit, by name or by id."""

from __future__ import annotations

from bot.roster import Person, Roster
from bot.rostersheet.cells import name_key


class PeopleIndex:
    """Roster people looked up by id, or by name ignoring spaces and case."""

    def __init__(self, roster: Roster) -> None:
        self._people = roster.people
        self._units = roster.units
        self._by_name: dict[str, list[Person]] = {}
        for person in roster.people.values():
            self._by_name.setdefault(name_key(person.name), []).append(person)

    def match(self, written: str) -> Person:
        """The one person ``written`` names; ``ValueError`` says why there is none or several."""
        if written in self._people:
            return self._people[written]
        found = self._by_name.get(name_key(written), [])
        if len(found) == 1:
            return found[0]
        if not found:
            raise ValueError(
                f"unknown person {written!r}: expected the name or id of someone in the roster"
            )
        choices = ", ".join(f"{p.id} ({self._units[p.unit].name})" for p in found)
        raise ValueError(
            f"ambiguous name {written!r}: it is {choices}; write the id instead of the name"
        )

    def label(self, person: Person) -> str:
        """How an export writes a person: the name, or the id when the name is not unique."""
        return person.name if len(self._by_name[name_key(person.name)]) == 1 else person.id
