"""Who holds a position when: rotations, calendar days across DST, one-off shifts, gaps."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.durations import format_duration, parse_duration
from bot.roster import Roster, load_roster
from tests.harness import ROSTER

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def local(text: str, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(UTC)


@pytest.fixture
def roster(tmp_path: Path) -> Roster:
    path = tmp_path / "roster.toml"
    path.write_text(ROSTER)
    return load_roster(path, SHANGHAI)


def test_rotation_hands_over_at_local_0800(roster: Roster) -> None:
    assert roster.holders("water", "officer", local("2026-11-27T07:59")) == ("li.lei",)
    assert roster.holders("water", "officer", local("2026-11-27T08:00")) == ("wang.fang",)
    assert roster.next_handover("water", "officer", local("2026-11-27T14:00")) == local(
        "2026-11-28T08:00"
    )


def test_nobody_holds_a_rotation_before_it_starts(roster: Roster) -> None:
    assert roster.holders("water", "officer", local("2026-10-31T12:00")) == ()


def test_one_off_shift_beats_the_rotation_for_its_span(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    path.write_text(
        ROSTER
        + """
[[shifts]]
unit = "water"
position = "officer"
person = "new.hire"
start = "2026-12-31T08:00"
end = "2026-12-31T20:00"
"""
    )
    roster = load_roster(path, SHANGHAI)
    assert roster.holders("water", "officer", local("2026-12-31T07:59")) == ("li.lei",)
    assert roster.holders("water", "officer", local("2026-12-31T08:00")) == ("new.hire",)
    assert roster.holders("water", "officer", local("2026-12-31T20:00")) == ("wang.fang",)
    assert roster.next_handover("water", "officer", local("2026-12-31T09:00")) == local(
        "2026-12-31T20:00"
    )


def test_gaps_are_exactly_the_empty_spans(roster: Roster) -> None:
    start = local("2026-11-27T14:00")
    gaps = roster.gaps(start)
    assert [(g.unit, g.position, g.start, g.end) for g in gaps] == [
        ("emergency", "leader", local("2026-11-28T08:00"), local("2026-11-29T08:00")),
    ]
    # Past the second shift's end (20 Dec) the position is empty until the horizon.
    later = roster.gaps(local("2026-12-15T08:00"))
    assert [(g.unit, g.position, g.start, g.end) for g in later] == [
        ("emergency", "leader", local("2026-12-20T08:00"), local("2026-12-29T08:00")),
    ]


def test_calendar_day_rotation_keeps_local_time_across_dst(tmp_path: Path) -> None:
    path = tmp_path / "roster.toml"
    path.write_text("""
[[units]]
id = "hq"
name = "HQ"
[[people]]
id = "a"
name = "A"
unit = "hq"
roles = ["officer"]
[[people]]
id = "b"
name = "B"
unit = "hq"
roles = ["officer"]
[[rotations]]
unit = "hq"
position = "officer"
people = ["a", "b"]
start = "2026-10-30T08:00"
length = "1d"
[[rotations]]
unit = "hq"
position = "backup"
people = ["a", "b"]
start = "2026-10-30T08:00"
length = "24h"
""")
    roster = load_roster(path, NEW_YORK)
    # DST ends in New York on 1 Nov 2026: that day lasts 25 hours.
    assert roster.next_handover("hq", "officer", local("2026-11-01T12:00", NEW_YORK)) == local(
        "2026-11-02T08:00", NEW_YORK
    )
    # 24h is exact elapsed time: after the change the handover falls at 07:00 local.
    assert roster.next_handover("hq", "backup", local("2026-11-01T12:00", NEW_YORK)) == local(
        "2026-11-02T07:00", NEW_YORK
    )


def test_holdings_say_until_when(roster: Roster) -> None:
    holdings = roster.holdings("li.lei", local("2026-11-27T14:00"))
    assert [(h.unit, h.position, h.until) for h in holdings] == [
        ("water", "backup", local("2026-11-28T08:00")),
    ]


def test_ancestors_and_descendants(roster: Roster) -> None:
    assert roster.ancestors("water") == ["city"]
    assert sorted(roster.descendants("city")) == ["city", "emergency", "water"]
    assert roster.root.id == "city"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("1d2h3m4s", 93784)],
)
def test_durations_parse(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


@pytest.mark.parametrize("text", ["5 minutes", "", "0s", "m5", "30m1h", "1h1h", "1.5h", "-5m"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
