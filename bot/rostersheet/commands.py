"""``dutybot roster import`` and ``dutybot roster export``: the command-line side of spreadsheets."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.configuration import load_configuration
from bot.errors import ConfigError
from bot.roster import Roster, load_roster
from bot.rostersheet.problems import SheetError
from bot.settings import load_settings

if TYPE_CHECKING:
    from bot.rostersheet.importer import ImportPlan
    from bot.rostersheet.rosterfile import RosterEdit

EXIT_PROBLEMS = 2  # as for a broken config file


def add_commands(
    roster_commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``import`` and ``export`` to the ``dutybot roster`` subcommands."""
    importing = roster_commands.add_parser(
        "import",
        parents=[common],
        help="read a spreadsheet roster (XLSX or CSV) into [[shifts]]; a dry run unless --write",
        description="Read the office's roster spreadsheet (值班表: 日期, 星期, 班次, 开始时间, "
        "结束时间, 带班领导, 带班领导电话, 值班员, 值班员电话, 备班, 备注 or the English "
        "headers) and print the change to the roster file as a diff, or write it with --write.",
    )
    importing.add_argument("file", metavar="FILE", help="the spreadsheet, .xlsx or .csv")
    importing.add_argument(
        "--unit", help="the unit whose shifts these are (needed unless the roster has one unit)"
    )
    importing.add_argument(
        "--write",
        metavar="ROSTER",
        help="write the shifts into this roster file (default: a dry run against the config's)",
    )
    exporting = roster_commands.add_parser(
        "export",
        parents=[common],
        help="write a unit's roster as resolved (rotations and shifts) to an XLSX spreadsheet",
    )
    exporting.add_argument("file", metavar="FILE.xlsx", help="the spreadsheet to write")
    exporting.add_argument("--unit", help="the unit (needed unless the roster has one unit)")
    exporting.add_argument("--from", dest="first", required=True, help="first duty day, YYYY-MM-DD")
    exporting.add_argument("--to", dest="last", required=True, help="last duty day, YYYY-MM-DD")


def _unit(requested: str | None, roster: Roster) -> str:
    known = ", ".join(roster.units)
    if requested is None:
        if len(roster.units) == 1:
            return next(iter(roster.units))
        raise ConfigError("--unit", "", f"missing: expected one of {known}")
    if requested not in roster.units:
        raise ConfigError("--unit", "", f"unknown unit {requested!r}: expected one of {known}")
    return requested


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError(option, "", f"expected a date like 2026-12-01, got {text!r}") from None


def _summary(plan: ImportPlan, edit: RosterEdit) -> str:
    span = f"{plan.start:%Y-%m-%d %H:%M} to {plan.end:%Y-%m-%d %H:%M}"
    return (
        f"{plan.file}: unit {plan.unit}, {span}: {edit.added} shifts "
        f"({', '.join(plan.positions)}) replacing {edit.replaced} in that span, "
        f"{edit.phones} phones filled in"
    )


def roster_import(args: argparse.Namespace, config: Path) -> int:
    """Import a spreadsheet: print the diff (dry run) or write the roster file."""
    # openpyxl (and numpy behind it) weigh some 20 MB: loaded only by these commands, never by
    # ``dutybot run``.
    from bot.rostersheet.importer import plan_import
    from bot.rostersheet.rosterfile import check_loads, edit_roster, write_roster

    settings = load_settings(config)
    tz = settings.timezone
    target = Path(args.write) if args.write else settings.roster_file
    roster = load_roster(target, tz)
    unit = _unit(args.unit, roster)
    try:
        plan = plan_import(Path(args.file), roster, unit, datetime.now(tz).date())
    except SheetError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        count = len(exc.problems)
        print(
            f"error: {count} problem{'s' * (count != 1)} in {args.file}; nothing written",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    edit = edit_roster(target, plan, tz)
    for note in plan.notes:
        print(f"note: {note}")
    for fill in plan.phones:
        print(f"phone: {fill.person} gets {fill.phone!r} (the roster had none), from {fill.source}")
    if args.write:
        write_roster(edit, tz)
        print(f"wrote {target}: {_summary(plan, edit)}")
        return 0
    check_loads(target, edit.new, tz)
    print(edit.diff() or f"no change to {target}", end="")
    print(f"\ndry run, nothing written: {_summary(plan, edit)}")
    print(f"to write it: dutybot roster import {args.file} --unit {unit} --write {target}")
    return 0


def roster_export(args: argparse.Namespace, config: Path) -> int:
    """Export the unit's resolved roster for a span of duty days to an XLSX file."""
    from bot.rostersheet.exporter import write_workbook

    roster = load_configuration(config).roster
    unit = _unit(args.unit, roster)
    first, last = _day("--from", args.first), _day("--to", args.last)
    if last < first:
        raise ConfigError("--to", "", f"expected a day on or after --from {first}, got {last}")
    path = Path(args.file)
    if path.suffix.casefold() != ".xlsx":
        raise ConfigError(str(path), "", "expected a file name ending in .xlsx")
    count = write_workbook(path, roster, unit, first, last)
    print(f"wrote {path}: unit {unit}, duty days {first} to {last}, {count} rows")
    return 0
