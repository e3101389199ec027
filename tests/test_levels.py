"""The reporting clock's formulas (``bot.levels``) and strict number parsing (``bot.parsing``),
without the bot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db.models import IncidentRow
from bot.levels import (
    Level,
    State,
    accept_due,
    effective_level,
    final_report_due,
    initial_report_due,
    is_open,
    parse_level,
    priority_of,
    warning_at,
)
from bot.parsing import parse_count, parse_number
from bot.settings import Settings, load_settings
from tests.harness import write_config

REPORTED = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        write_config(
            tmp_path,
            base_url="http://x/bot",
            database_url="sqlite+aiosqlite:///x.db",
            extra='\n[levels.IV]\nclose_within = "3d"\n',
        )
    )


def incident(level: str = "III", sensitive: bool = False, **values: object) -> IncidentRow:
    return IncidentRow(
        level=level, sensitive=sensitive, reported_at=REPORTED, unit_id="water", **values
    )


def test_accept_counts_from_the_report_or_from_the_last_transfer(settings: Settings) -> None:
    accept = settings.levels["III"].accept
    assert accept_due(settings, incident()) == REPORTED + accept
    moved = REPORTED + timedelta(hours=3)
    assert accept_due(settings, incident(unit_since=moved)) == moved + accept


def test_reports_count_from_the_report_whatever_the_transfers(settings: Settings) -> None:
    moved = incident(unit_since=REPORTED + timedelta(hours=3))
    assert initial_report_due(settings, moved) == REPORTED + settings.levels["III"].initial_report
    assert final_report_due(settings, moved) is None
    assert final_report_due(settings, incident("IV")) == REPORTED + timedelta(days=3)


def test_sensitive_follows_level_two(settings: Settings) -> None:
    assert effective_level("IV", True) == "II"
    assert effective_level("I", True) == "I"
    assert initial_report_due(settings, incident("IV", sensitive=True)) == (
        REPORTED + settings.levels["II"].initial_report
    )
    assert priority_of(incident("IV", sensitive=True)) == priority_of(incident("II"))
    assert priority_of(incident("I")) < priority_of(incident("IV"))


def test_the_warning_comes_warn_before_the_due_time(settings: Settings) -> None:
    due = REPORTED + timedelta(hours=1)
    assert warning_at(settings, incident("II"), due) == due - settings.levels["II"].warn_before


def test_levels_and_states_read_as_the_code_stores_them() -> None:
    assert parse_level("ii") is Level.II
    assert parse_level("Unassessed") is Level.UNASSESSED
    assert parse_level("V") is None and parse_level("") is None
    assert is_open(State.ACCEPTED) and is_open("reported")
    assert not is_open(State.MERGED) and not is_open("closed")


@pytest.mark.parametrize(
    ("text", "number"),
    [("17", 17), ("#17", 17), ("＃１７", 17), (" 3 ", 3), ("000000000012", 12)],
)
def test_numbers_people_type(text: str, number: int) -> None:
    assert parse_number(text) == number


@pytest.mark.parametrize(
    "text",
    ["²", "①", "١٢", "-3", "+3", "1e5", "3.0", "1 7", "", "#", "1" * 13, "7\u202e", "7\x00", "٣"],
)
def test_hostile_numbers_are_refused_not_crashed_on(text: str) -> None:
    assert parse_number(text) is None
    assert parse_count(text) is None


def test_counts_of_people_are_bounded() -> None:
    assert parse_count("０") == 0
    assert parse_count("99999") == 99999
    assert parse_count("100000") is None
