"""What every flow is given: settings, roster, database, clock, and the engine to tell after a
commit that changed deadlines. A plain container: the composition root (``bot.app``) fills it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.configuration import Configuration
from bot.db.engine import Database
from bot.delivery.notify import Audience
from bot.flood import FloodGuard
from bot.roster import Roster
from bot.settings import Settings
from bot.updates import Known, SeenMessages
from scheduling.clock import Clock, SystemClock

# python-telegram-bot 22 gives time periods (retry_after) as timedelta when asked to; ask.
os.environ.setdefault("PTB_TIMEDELTA", "true")
RUNTIME_KEY = "dutybot.runtime"


class Waker(Protocol):
    """Something that should look at the database again after a commit."""

    def wake(self) -> None:
        """Look now."""
        ...


class DeadlineWatcher(Protocol):
    """The deadline engine as the rest of the process sees it. It hears of every committed
    change to the deadlines table by itself (``scheduling.watch``): nobody need tell it."""

    def changed(self) -> None:
        """Deadlines were added or moved: look in a moment."""
        ...


@dataclass
class Runtime:
    """Settings, roster, database and clock: everything handlers and flows are given."""

    settings: Settings
    roster: Roster
    database: Database
    clock: Clock = field(default_factory=SystemClock)
    sender: Waker | None = None
    engine: DeadlineWatcher | None = None
    flood: FloodGuard = field(default_factory=FloodGuard)
    # what the inbox knows of the updates being handled, by update id: the identification
    # gate asks the database less (``bot.updates.Known``)
    known_updates: dict[int, Known] = field(default_factory=dict)
    seen_messages: SeenMessages = field(default_factory=SeenMessages)

    def now(self) -> datetime:
        """The current moment (aware UTC) from the injected clock."""
        return self.clock.now()

    @property
    def audience(self) -> Audience:
        """Who ``notify`` tells: the roster in force, in the configured default language."""
        return Audience(self.roster, self.settings.language)


def runtime_from(configuration: Configuration, clock: Clock | None = None) -> Runtime:
    """Build a runtime for a loaded configuration."""
    return Runtime(
        settings=configuration.settings,
        roster=configuration.roster,
        database=Database(configuration.settings.database_url),
        clock=clock or SystemClock(),
    )
