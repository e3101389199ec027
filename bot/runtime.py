"""The composition root: what a running bot is made of, and the python-telegram-bot Application."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime

from telegram.ext import Application, ContextTypes, Defaults

from bot.configuration import Configuration, load_configuration
from bot.db.engine import Database
from bot.db.migrate import upgrade
from bot.delivery.sender import Sender
from bot.identity.service import sync_roster
from bot.persistence import SQLPersistence
from bot.roster import Roster
from bot.settings import Settings
from scheduling.clock import Clock, SystemClock
from scheduling.engine import Engine

log = logging.getLogger(__name__)
# python-telegram-bot 22 gives time periods (retry_after) as timedelta when asked to; ask.
os.environ.setdefault("PTB_TIMEDELTA", "true")
RUNTIME_KEY = "dutybot.runtime"


@dataclass
class Runtime:
    """Settings, roster, database and clock: everything handlers and services are given."""

    settings: Settings
    roster: Roster
    database: Database
    clock: Clock = field(default_factory=SystemClock)
    sender: Sender | None = None
    engine: Engine | None = None

    def outbox_committed(self) -> None:
        """A transaction that queued messages (and perhaps deadlines) committed: let the sender
        and the deadline engine look now."""
        if self.sender is not None:
            self.sender.wake()
        if self.engine is not None:
            self.engine.changed()

    def now(self) -> datetime:
        """The current moment (aware UTC) from the injected clock."""
        return self.clock.now()

    async def prepare_database(self) -> None:
        """Apply migrations and bring the people and units tables in line with the roster."""
        await upgrade(self.database)
        async with self.database.transaction() as session:
            await sync_roster(session, self.roster, self.now())

    async def reload_roster(self) -> Roster:
        """Re-read the roster file; a bad one raises ``ConfigError`` and the old one stays."""
        configuration = load_configuration(self.settings.config_file)
        async with self.database.transaction() as session:
            await sync_roster(session, configuration.roster, self.now())
        self.roster = configuration.roster
        return self.roster


def runtime_from(configuration: Configuration, clock: Clock | None = None) -> Runtime:
    """Build a runtime for a loaded configuration."""
    return Runtime(
        settings=configuration.settings,
        roster=configuration.roster,
        database=Database(configuration.settings.database_url),
        clock=clock or SystemClock(),
    )


def build_application(runtime: Runtime) -> Application:  # type: ignore[type-arg]
    """The python-telegram-bot Application with every handler registered."""
    # handlers import this module: a top-level import would be circular
    from handlers import register
    from handlers.common.context import DutyContext
    from handlers.lifecycle import on_shutdown, on_startup, on_stop

    settings = runtime.settings
    application = (
        Application.builder()
        .token(settings.require_token())
        .base_url(settings.telegram.base_url)
        .base_file_url(settings.telegram.base_file_url)
        .defaults(Defaults(tzinfo=settings.timezone, block=True))
        .context_types(ContextTypes(context=DutyContext))
        .persistence(SQLPersistence(runtime.database))
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
        .build()
    )
    application.bot_data[RUNTIME_KEY] = runtime
    register(application)
    return application
