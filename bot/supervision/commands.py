"""``dutybot export bulletin|incident …`` (SPEC §8): the exports of §3.5 written to files, for
every unit (the command line answers to whoever runs it on the server)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.configuration import load_configuration
from bot.db.migrate import current_revision
from bot.errors import ConfigError
from bot.i18n import translator
from bot.runtime import runtime_from
from bot.supervision import flows, periods
from bot.supervision.documents import Document

EXIT_NOT_FOUND = 1


def add_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Add ``dutybot export bulletin`` and ``dutybot export incident``."""
    export = commands.add_parser(
        "export", parents=[common], help="write the bulletin (XLSX) or an incident's dossier (DOCX)"
    )
    what = export.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    bulletin = what.add_parser(
        "bulletin",
        parents=[common],
        help="the bulletin of every unit for a duty day, week or month, as XLSX",
    )
    bulletin.add_argument("period", choices=periods.PERIODS, help="day, week or month")
    bulletin.add_argument(
        "date", nargs="?", help="a duty day in the period, YYYY-MM-DD (default: the current one)"
    )
    incident = what.add_parser(
        "incident", parents=[common], help="an incident's dossier (card, reports, timeline), DOCX"
    )
    incident.add_argument("number", type=int, help="the incident's number")
    for sub in (bulletin, incident):
        sub.add_argument("--out", help="the file to write (default: its own name, here)")
        sub.add_argument("--lang", choices=("en", "zh"), help="default: the configured language")


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ConfigError("date", "", f"expected a date like 2026-11-27, got {text!r}") from None


def export(args: argparse.Namespace, config_path: Path) -> int:
    """Write the export to ``--out`` (or its own name) and print where."""
    configuration = load_configuration(config_path)
    runtime = runtime_from(configuration)
    tr = translator(args.lang or configuration.settings.language)
    day = _day(getattr(args, "date", None))

    async def go() -> Document | flows.Unseen | None:
        try:
            if await current_revision(runtime.database) is None:
                raise ConfigError(
                    make_url(configuration.settings.database_url).render_as_string(
                        hide_password=True
                    ),
                    "",
                    "no database yet: run dutybot db upgrade",
                )
            async with runtime.database.sessions() as session:
                if args.export_command == "bulletin":
                    return await flows.export_bulletin(session, runtime, None, args.period, tr, day)
                return await flows.export_incident(session, runtime, None, args.number, tr)
        finally:
            await runtime.database.close()

    document = asyncio.run(go())
    if not isinstance(document, Document):
        print(f"error: there is no incident #{args.number}", file=sys.stderr)
        return EXIT_NOT_FOUND
    target = Path(args.out or document.filename)
    target.write_bytes(document.data)
    print(f"{target}: {document.caption} ({len(document.data)} bytes)")
    return 0
