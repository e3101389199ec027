"""Identity use cases that touch the whole roster: loading it into the database at start and
reloading it on an admin's request."""

from __future__ import annotations

from bot.configuration import load_configuration
from bot.db.migrate import upgrade
from bot.identity.service import sync_roster
from bot.roster import Roster
from bot.runtime import Runtime


async def prepare_database(runtime: Runtime) -> None:
    """Apply migrations and bring the people and units tables in line with the roster."""
    await upgrade(runtime.database)
    async with runtime.database.transaction() as session:
        await sync_roster(session, runtime.roster, runtime.now())


async def reload_roster(runtime: Runtime) -> Roster:
    """Re-read the roster file; a bad one raises ``ConfigError`` and the old one stays."""
    configuration = load_configuration(runtime.settings.config_file)
    async with runtime.database.transaction() as session:
        await sync_roster(session, configuration.roster, runtime.now())
    runtime.roster = configuration.roster
    return runtime.roster
