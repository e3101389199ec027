"""The ``dutybot`` command line (SPEC §8): run, check-config, db upgrade, roster show|import|export,
export bulletin|incident, backup."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from telegram.error import InvalidToken, TelegramError

from bot.backup import BackupRefused, backup_sqlite
from bot.configuration import Configuration, load_configuration
from bot.db.engine import Database
from bot.db.migrate import current_revision
from bot.directory import reachability
from bot.duty_table import Reachability, gap_lines, local_time, on_duty_lines, unreachable_lines
from bot.errors import ConfigError
from bot.i18n import translator
from bot.identity.in_force import roster_in_force
from bot.logging_setup import LOG_FORMATS, LOG_LEVELS
from bot.roster import Roster
from bot.rostersheet.commands import add_commands as add_sheet_commands
from bot.rostersheet.commands import roster_export, roster_import
from bot.settings import load_settings
from bot.supervision.commands import add_commands as add_export_commands
from bot.supervision.commands import export

EXIT_CONFIG = 2
EXIT_RUNTIME = 1
ENV_CONFIG = "DUTYBOT_CONFIG"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        help=f"the config file (default: ${ENV_CONFIG} or config.toml)",
    )
    parser = argparse.ArgumentParser(
        prog="dutybot",
        parents=[common],
        description="dutybot: a Telegram bot for a 24-hour government duty desk.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run_parser = commands.add_parser(
        "run", parents=[common], help="run the bot (applies pending migrations first)"
    )
    run_parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        help="text lines or JSON lines on stderr (default: [logging] format, else text)",
    )
    run_parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        help="how much to log (default: [logging] level, else INFO)",
    )
    commands.add_parser(
        "check-config",
        parents=[common],
        help="validate config and roster; print who is on duty now and the gaps ahead",
    )
    db = commands.add_parser("db", parents=[common], help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    db_commands.add_parser("upgrade", parents=[common], help="apply the database migrations")
    roster = commands.add_parser("roster", parents=[common], help="roster questions")
    roster_commands = roster.add_subparsers(
        dest="roster_command", required=True, metavar="ROSTER_COMMAND"
    )
    show = roster_commands.add_parser(
        "show", parents=[common], help="who holds each position at a time"
    )
    show.add_argument("--at", help='a local time, "YYYY-MM-DD HH:MM" (default: now)')
    add_sheet_commands(roster_commands, common)
    backup = commands.add_parser(
        "backup",
        parents=[common],
        help="copy the SQLite database consistently while the bot runs (PostgreSQL: pg_dump)",
    )
    backup.add_argument("file", metavar="FILE", help="the copy to write; must not exist yet")
    add_export_commands(commands, common)
    return parser


def _config_path(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "config", None) or os.environ.get(ENV_CONFIG) or "config.toml")


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def _reachability(configuration: Configuration) -> Reachability:
    """What the database knows about accounts, or nothing when it is not there yet."""
    url = make_url(configuration.settings.database_url)
    if url.get_backend_name() == "sqlite" and not os.path.exists(url.database or ""):  # noqa: ASYNC240
        return Reachability()  # not created yet; checking must not create it
    database = Database(configuration.settings.database_url)
    try:
        if await current_revision(database) is None:
            return Reachability()
        async with database.sessions() as session:
            return await reachability(session, configuration.roster)
    except (SQLAlchemyError, OSError):
        return Reachability()
    finally:
        await database.close()


async def _in_force(configuration: Configuration, at: datetime) -> Roster:
    """The roster in force (the file with the approved swaps from the database), or the file's
    alone when the database is not there yet."""
    url = make_url(configuration.settings.database_url)
    if url.get_backend_name() == "sqlite" and not os.path.exists(url.database or ""):  # noqa: ASYNC240
        return configuration.roster
    database = Database(configuration.settings.database_url)
    try:
        if await current_revision(database) is None:
            return configuration.roster
        async with database.sessions() as session:
            return await roster_in_force(session, configuration.roster, at)
    except (SQLAlchemyError, OSError):
        return configuration.roster
    finally:
        await database.close()


def _print_duty(
    configuration: Configuration, at: datetime, reach: Reachability, roster: Roster | None = None
) -> None:
    settings = configuration.settings
    roster = roster or configuration.roster
    tr = translator(settings.language)
    print(
        tr._("On duty at {time} ({zone}):").format(
            time=local_time(at, roster), zone=settings.timezone.key
        )
    )
    for line in on_duty_lines(roster, tr, at, roster.units, reach):
        print(line)
    print()
    for line in gap_lines(roster, tr, at):
        print(line)
    unreachable = unreachable_lines(roster, tr, reach)
    if unreachable:
        print()
        print("\n".join(unreachable))


def check_config(args: argparse.Namespace) -> int:
    """Validate both files and print the duty table now and the gaps ahead."""
    configuration = load_configuration(_config_path(args))
    settings, roster = configuration.settings, configuration.roster
    print(
        f"OK: {settings.config_file} and {settings.roster_file}: "
        f"{len(roster.units)} units, {len(roster.people)} people, "
        f"{len(roster.rotations)} rotations, {len(roster.shifts)} shifts"
    )
    reach = asyncio.run(_reachability(configuration))
    _print_duty(configuration, datetime.now(UTC), reach)
    return 0


def roster_show(args: argparse.Namespace) -> int:
    """Print who holds each position at ``--at`` (local time) or now."""
    configuration = load_configuration(_config_path(args))
    tz = configuration.settings.timezone
    at = datetime.now(UTC)
    if args.at:
        try:
            parsed = datetime.fromisoformat(args.at)
        except ValueError:
            raise ConfigError(
                "--at", "", f'expected a local time like "2026-11-27 14:00", got {args.at!r}'
            ) from None
        at = (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)
    _print_duty(configuration, at, Reachability(), asyncio.run(_in_force(configuration, at)))
    return 0


def db_upgrade(args: argparse.Namespace) -> int:
    """Apply the migrations and load the roster into the database."""
    from bot.app import prepare_database
    from bot.runtime import runtime_from

    configuration = load_configuration(_config_path(args))

    async def go() -> str | None:
        runtime = runtime_from(configuration)
        try:
            await prepare_database(runtime)
            return await current_revision(runtime.database)
        finally:
            await runtime.database.close()

    revision = asyncio.run(go())
    print(f"{_safe_url(configuration.settings.database_url)}: at revision {revision}")
    return 0


def backup(args: argparse.Namespace) -> int:
    """Copy the SQLite database to FILE with SQLite's backup API (refused for PostgreSQL)."""
    settings = load_settings(_config_path(args))
    try:
        result = backup_sqlite(settings.database_url, Path(args.file))
    except BackupRefused as exc:
        print(f"error: backup: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"backup: {result.source} -> {result.target}: {result.pages} pages, "
        f"{result.size} bytes, integrity ok"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the bot until SIGINT or SIGTERM; a rejected token ends it with a one-line reason."""
    from bot.app import serve
    from bot.logging_setup import configure_logging, parse_level
    from bot.runtime import runtime_from
    from scheduling.leader import AlreadyRunning

    configuration = load_configuration(_config_path(args))
    settings = configuration.settings
    token = settings.require_token()
    configure_logging(
        token,
        parse_level(args.log_level or settings.logging.level),
        args.log_format or settings.logging.format,
    )
    runtime = runtime_from(configuration)
    try:
        asyncio.run(serve(runtime))
    except InvalidToken:
        raise ConfigError(
            str(settings.config_file), "[telegram] token", "rejected by Telegram (401 Unauthorized)"
        ) from None
    except AlreadyRunning as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    except TelegramError as exc:
        print(
            f"error: cannot reach the Bot API at {settings.telegram.base_url}: {exc}",
            file=sys.stderr,
        )
        return EXIT_RUNTIME
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dutybot`` console script."""
    args = _parser().parse_args(argv)
    actions = {"run": run, "check-config": check_config, "backup": backup}
    try:
        if args.command == "db":
            return db_upgrade(args)
        if args.command == "roster" and args.roster_command == "import":
            return roster_import(args, _config_path(args))
        if args.command == "roster" and args.roster_command == "export":
            return roster_export(args, _config_path(args))
        if args.command == "roster":
            return roster_show(args)
        if args.command == "export":
            return export(args, _config_path(args))
        return actions[args.command](args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except SQLAlchemyError as exc:
        print(
            f"error: database: {exc.__class__.__name__}: {str(exc).splitlines()[0]}",
            file=sys.stderr,
        )
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `dutybot roster show | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
