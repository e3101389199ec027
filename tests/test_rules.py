"""The reporting rules of a duty office (SPEC §3.3, §7): the two-stage first report, follow-up
timing, ``[[limits]]`` per unit and category — pure rules, without the bot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.db.models import IncidentRow
from bot.levels import (
    flash_report_due,
    incident_policy,
    initial_report_due,
    next_followup_due,
    policy_for,
)
from bot.settings import Settings, load_settings
from tests.harness import write_config

REPORTED = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # 14:00 Shanghai


def settings_with(tmp_path: Path, extra: str = "") -> Settings:
    return load_settings(
        write_config(
            tmp_path, base_url="http://x/bot", database_url="sqlite+aiosqlite:///x.db", extra=extra
        )
    )


def incident(level: str, unit: str = "water", category: str | None = None) -> IncidentRow:
    return IncidentRow(
        id=1,
        unit_id=unit,
        category=category,
        level=level,
        sensitive=False,
        reported_at=REPORTED,
        unit_since=REPORTED,
    )


def local(settings: Settings, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=settings.timezone).astimezone(UTC)


def test_default_clock_has_two_stages_for_major_levels_and_unassessed_runs_on_level_two(
    tmp_path: Path,
) -> None:
    settings = settings_with(tmp_path)
    for level in ("I", "II", "unassessed"):
        assert flash_report_due(settings, incident(level)) == REPORTED + timedelta(minutes=30)
        assert initial_report_due(settings, incident(level)) == REPORTED + timedelta(hours=1)
        assert policy_for(settings, level).accept == timedelta(minutes=5)
    for level in ("III", "IV"):
        assert flash_report_due(settings, incident(level)) is None
    assert initial_report_due(settings, incident("IV")) == REPORTED + timedelta(hours=2)
    assert [policy_for(settings, x).require_signoff for x in ("I", "II", "III", "IV")] == [
        True,
        True,
        True,
        False,
    ]


def test_a_first_report_at_0750_makes_no_followup_due_at_0800(tmp_path: Path) -> None:
    settings = settings_with(tmp_path)
    after = local(settings, "2026-11-28T07:50")
    assert next_followup_due(settings, "I", False, after) == local(settings, "2026-11-28T17:00")
    # Two hours before the fixed time is enough.
    after = local(settings, "2026-11-28T06:00")
    assert next_followup_due(settings, "I", False, after) == local(settings, "2026-11-28T08:00")
    # Level IV: once a day at 17:00.
    after = local(settings, "2026-11-28T16:00")
    assert next_followup_due(settings, "IV", False, after) == local(settings, "2026-11-29T17:00")


def test_an_optional_cadence_comes_first_when_it_is_sooner(tmp_path: Path) -> None:
    settings = settings_with(tmp_path, '\n[levels.I]\nfollowup_every = "1h"\n')
    after = local(settings, "2026-11-28T09:00")
    assert next_followup_due(settings, "I", False, after) == local(settings, "2026-11-28T10:00")


def test_limits_most_specific_wins(tmp_path: Path) -> None:
    settings = settings_with(
        tmp_path,
        """
[[limits]]
category = "health"
initial_report = "3h"

[[limits]]
unit = "water"
level = "II"
initial_report = "2h"
accept = "2m"

[[limits]]
unit = "water"
category = "health"
level = "II"
initial_report = "90m"
""",
    )
    assert incident_policy(settings, incident("II", "water", "health")).initial_report == (
        timedelta(minutes=90)
    )
    # The unit's own rule for level II: accept and initial report.
    policy = incident_policy(settings, incident("II", "water", "accident"))
    assert (policy.initial_report, policy.accept) == (timedelta(hours=2), timedelta(minutes=2))
    # Health anywhere else, any level.
    assert incident_policy(settings, incident("I", "city", "health")).initial_report == (
        timedelta(hours=3)
    )
    # No rule: the level's own clock.
    assert incident_policy(settings, incident("II", "city", "natural")).initial_report == (
        timedelta(hours=1)
    )
