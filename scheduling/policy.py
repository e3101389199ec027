"""The reporting clock's policy: which limits apply to an incident, and when they fall due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.settings import LevelPolicy, Settings

LEVEL_COLOURS = {"I": "🔴", "II": "🟠", "III": "🟡", "IV": "🔵", "unassessed": "⚪"}


def effective_level(level: str, sensitive: bool) -> str:
    """A sensitive report is treated as level II for its deadlines, whatever its level."""
    if sensitive and level in ("III", "IV", "unassessed"):
        return "II"
    return level


def policy_for(settings: Settings, level: str, sensitive: bool = False) -> LevelPolicy:
    """The limits of an incident's level (sensitive counts as II)."""
    return settings.levels[effective_level(level, sensitive)]


def accept_due(settings: Settings, level: str, sensitive: bool, reported_at: datetime) -> datetime:
    """When an officer must have accepted the report."""
    return reported_at + policy_for(settings, level, sensitive).accept


def initial_report_due(
    settings: Settings, level: str, sensitive: bool, reported_at: datetime
) -> datetime:
    """When the initial report (首报) is due."""
    return reported_at + policy_for(settings, level, sensitive).initial_report


def next_followup_due(settings: Settings, level: str, sensitive: bool, after: datetime) -> datetime:
    """The next follow-up (续报): the interval after the last official report, or the next fixed
    daily time (``followup_at``, local), whichever comes first."""
    policy = policy_for(settings, level, sensitive)
    candidates = [after + policy.followup_every]
    tz = settings.timezone
    local = after.astimezone(tz)
    for day in range(0, 2):
        for moment in policy.followup_at:
            candidate = datetime.combine(local.date() + timedelta(days=day), moment, tzinfo=tz)
            if candidate > local:
                candidates.append(candidate.astimezone(UTC))
    return min(candidates)
