"""Load the config file and the roster it points to, and check them against each other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError
from bot.roster import Roster, load_roster
from bot.settings import Settings, load_settings


@dataclass(frozen=True)
class Configuration:
    """The validated settings and roster the bot runs with."""

    settings: Settings
    roster: Roster


def load_configuration(path: str | Path) -> Configuration:
    """Load both files; every problem is a ``ConfigError`` naming the file and the key."""
    settings = load_settings(path)
    roster = load_roster(settings.roster_file, settings.timezone)
    for category, unit in settings.routing.items():
        if unit not in roster.units:
            raise ConfigError(
                str(settings.config_file),
                f"[routing] {category}",
                f"unknown unit {unit!r} (not in {settings.roster_file})",
            )
    for index, rule in enumerate(settings.limits):
        if rule.unit is not None and rule.unit not in roster.units:
            raise ConfigError(
                str(settings.config_file),
                f"[limits[{index + 1}]] unit",
                f"a unit id of the roster, got unknown unit {rule.unit!r} "
                f"(not in {settings.roster_file})",
            )
    return Configuration(settings, roster)
