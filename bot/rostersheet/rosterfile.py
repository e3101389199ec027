"""Write imported shifts into the roster TOML file, keeping everything else byte for byte.

The file is edited as text: the unit's ``[[shifts]]`` for the imported positions that fall in
the imported span are replaced by the new ones (a shift reaching over an edge of the span keeps
its part outside), new shifts go where the first replaced one was (else at the end of the file),
and ``phone = "…"`` is added to the people the spreadsheet gave a phone for. Each table is
checked against ``tomllib``'s reading of the whole file first, so a file the editor does not
understand is refused rather than damaged; the result must load with ``load_roster``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import ConfigError
from bot.roster import Roster, load_roster
from bot.rostersheet.importer import ImportedShift, ImportPlan

_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(#.*)?$")


@dataclass(frozen=True)
class _Block:
    """The lines of one ``[[name]]`` table: header, key lines, then blank lines after it."""

    name: str
    start: int  # the header line
    end: int  # just after the last key line
    after: int  # just after the blank lines that follow


@dataclass(frozen=True)
class RosterEdit:
    """The roster file before and after an import, with counts for the summary."""

    path: Path
    old: str
    new: str
    added: int
    replaced: int
    phones: int

    def diff(self) -> str:
        """The change as a unified diff of the roster file."""
        return "".join(
            difflib.unified_diff(
                _lines(self.old),
                _lines(self.new),
                fromfile=str(self.path),
                tofile=f"{self.path} (imported)",
            )
        )


def _lines(text: str) -> list[str]:
    """The lines of ``text`` with their line ends; only ``\\n`` ends a line, as in TOML."""
    parts = text.split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _blocks(lines: list[str]) -> list[_Block]:
    headers = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    blocks = []
    for n, start in enumerate(headers):
        stop = headers[n + 1] if n + 1 < len(headers) else len(lines)
        end = start + 1
        for i in range(start + 1, stop):
            stripped = lines[i].strip()
            if stripped and not stripped.startswith("#"):
                end = i + 1
        after = end
        while after < stop and not lines[after].strip():
            after += 1
        found = _HEADER.match(lines[start])
        assert found is not None
        blocks.append(_Block(found[2] if found[1] == "[[" else "", start, end, after))
    return blocks


def _checked_blocks(
    file: str, lines: list[str], data: dict[str, Any], name: str
) -> list[tuple[_Block, dict[str, Any]]]:
    """The ``[[name]]`` blocks paired with their entries, or a refusal to edit the file."""
    blocks = [b for b in _blocks(lines) if b.name == name]
    entries = data.get(name, [])
    problem = ConfigError(
        file,
        f"[[{name}]]",
        "cannot be edited safely: expected plain [[tables]] of key = value lines",
    )
    if len(blocks) != len(entries):
        raise problem
    for block, entry in zip(blocks, entries, strict=True):
        try:
            if tomllib.loads("".join(lines[block.start + 1 : block.end])) != entry:
                raise problem
        except tomllib.TOMLDecodeError:
            raise problem from None
    return list(zip(blocks, entries, strict=True))


def _aware(raw: object, tz: ZoneInfo) -> datetime:
    value = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime(_LOCAL_FORMAT)


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def _shift_text(
    unit: str, position: str, person: str, start: str, end: str, comment: str | None
) -> str:
    header = "[[shifts]]" + (f"  # {comment}" if comment else "")
    return (
        f"{header}\nunit = {_string(unit)}\nposition = {_string(position)}\n"
        f"person = {_string(person)}\nstart = {_string(start)}\nend = {_string(end)}\n"
    )


def _imported_text(plan: ImportPlan, shift: ImportedShift) -> str:
    comment = " ".join(f"imported from {shift.source}".split())
    return _shift_text(
        plan.unit,
        shift.position,
        shift.person,
        shift.start.strftime(_LOCAL_FORMAT),
        shift.end.strftime(_LOCAL_FORMAT),
        comment,
    )


def edit_roster(path: Path, plan: ImportPlan, tz: ZoneInfo) -> RosterEdit:
    """The roster file as it would be after the import (nothing is written here)."""
    file = str(path)
    try:
        old = path.read_bytes().decode("utf-8")
        data = tomllib.loads(old)
    except OSError as exc:
        raise ConfigError(file, "", f"cannot be read ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(file, "", f"TOML syntax error: {exc}") from None
    lines = _lines(old)
    span = (plan.start.replace(tzinfo=tz), plan.end.replace(tzinfo=tz))
    group = "\n".join(_imported_text(plan, s) for s in plan.shifts)
    replacements: dict[int, tuple[int, str]] = {}  # first line → (line after, new text)
    replaced = 0
    for block, entry in _checked_blocks(file, lines, data, "shifts"):
        if entry.get("unit") != plan.unit or entry.get("position") not in plan.positions:
            continue
        start, end = _aware(entry["start"], tz), _aware(entry["end"], tz)
        if end <= span[0] or start >= span[1]:
            continue
        replaced += 1
        kept = [(start, span[0])] if start < span[0] else []
        first = not replacements
        if first:
            kept.append((span[0], span[0]))  # where the imported shifts go
        if end > span[1]:
            kept.append((span[1], end))
        pieces = [
            group
            if a == b
            else _shift_text(
                plan.unit, entry["position"], entry["person"], _local(a, tz), _local(b, tz), None
            )
            for a, b in kept
        ]
        if pieces:
            trailing = "".join(lines[block.end : block.after])
            replacements[block.start] = (block.after, "\n".join(pieces) + trailing)
        else:
            replacements[block.start] = (block.after, "")
    inserts: dict[int, str] = {}
    people = {
        entry.get("id"): block for block, entry in _checked_blocks(file, lines, data, "people")
    }
    for fill in plan.phones:
        inserts[people[fill.person].end - 1] = f"phone = {_string(fill.phone)}\n"
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i in replacements:
            i, text = replacements[i]
            out.append(text)
            continue
        line = lines[i]
        if i in inserts:
            out.append(line if line.endswith("\n") else line + "\n")
            out.append(inserts[i])
        else:
            out.append(line)
        i += 1
    new = "".join(out)
    if replacements:  # a removed last table must not leave its neighbour's blank line behind
        new = new.rstrip("\n") + "\n" * (len(old) - len(old.rstrip("\n")))
    elif group:
        if new and not new.endswith("\n"):
            new += "\n"
        new += ("\n" if new and not new.endswith("\n\n") else "") + group
    return RosterEdit(path, old, new, len(plan.shifts), replaced, len(plan.phones))


def check_loads(path: Path, text: str, tz: ZoneInfo) -> Roster:
    """Load ``text`` as the roster file ``path`` would be; errors name ``path``."""
    with tempfile.TemporaryDirectory() as directory:
        candidate = Path(directory) / path.name
        candidate.write_text(text, encoding="utf-8")
        try:
            return load_roster(candidate, tz)
        except ConfigError as exc:
            raise ConfigError(str(path), exc.where, exc.expected) from None


def write_roster(edit: RosterEdit, tz: ZoneInfo) -> Roster:
    """Replace the roster file with the edited text, atomically, once it is known to load."""
    roster = check_loads(edit.path, edit.new, tz)
    handle, temporary = tempfile.mkstemp(dir=edit.path.parent, prefix=f".{edit.path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(edit.new)
        os.chmod(temporary, edit.path.stat().st_mode & 0o777)
        os.replace(temporary, edit.path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return roster
