"""Spreadsheet rosters (SPEC §6): import XLSX and CSV into [[shifts]], export, and refuse bad rows."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

from bot.errors import ConfigError
from bot.roster import Roster, load_roster
from bot.rostersheet.importer import ImportPlan, plan_import
from bot.rostersheet.problems import SheetError
from bot.rostersheet.rosterfile import edit_roster, write_roster
from tests.harness import ROSTER, write_config

REPO = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 27)

ZH = ["日期", "星期", "班次", "开始时间", "结束时间", "带班领导", "带班领导电话"]
ZH += ["值班员", "值班员电话", "备班", "备注"]
EN = ["date", "weekday", "shift", "start", "end", "leader", "leader phone"]
EN += ["officer", "officer phone", "backup", "notes"]

# People with Chinese names, two of them called 张伟 (in different units), one with a phone.
SHEET_ROSTER = (
    ROSTER
    + """
[[people]]
id = "zhang.wei"
name = "张伟"
unit = "water"
roles = ["officer"]

[[people]]
id = "zhang.wei2"
name = "张伟"
unit = "city"
roles = ["officer"]

[[people]]
id = "liu.yang"
name = "刘洋"
unit = "water"
roles = ["officer"]
phone = "+86 138 0000 0009"

[[people]]
id = "zhao.min"
name = "赵敏"
unit = "water"
roles = ["leader"]
"""
)

Cell = object


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


def xlsx(
    path: Path,
    rows: Sequence[Sequence[Cell]],
    *,
    headers: Sequence[str] = ZH,
    sheet: str = "12月",
    title: str | None = "水务局值班表",
    merges: Sequence[str] = (),
    cover: bool = False,
) -> Path:
    """Write a workbook as an office would: a title row over the header row, then the rows."""
    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    if cover:
        worksheet.title = "说明"
        worksheet.append(["本表由值班室编制，节假日值班安排见下一页"])
        worksheet = workbook.create_sheet()
    worksheet.title = sheet
    if title is not None:
        worksheet.append([title])
        worksheet.merge_cells(start_row=1, end_row=1, start_column=1, end_column=len(headers))
    worksheet.append(list(headers))
    for row in rows:
        worksheet.append(list(row))
    for cells in merges:
        worksheet.merge_cells(cells)
    workbook.save(path)
    return path


def day_row(
    day: date, officer: str, *, leader: str | None = None, backup: str | None = None
) -> list[Cell]:
    """A 24-hour row in the Chinese layout (Excel date, text times)."""
    weekday = "星期" + "一二三四五六日"[day.weekday()]
    return [day, weekday, "全天", "8:00", "次日8:00", leader, None, officer, None, backup, None]


def roster_file(directory: Path, text: str = SHEET_ROSTER) -> Path:
    path = directory / "roster.toml"
    path.write_text(text)
    return path


def load(path: Path) -> Roster:
    return load_roster(path, SHANGHAI)


def do_import(sheet: Path, roster_path: Path, unit: str = "water") -> ImportPlan:
    """Import like ``dutybot roster import --write``, through the same functions."""
    plan = plan_import(sheet, load(roster_path), unit, TODAY)
    write_roster(edit_roster(roster_path, plan, SHANGHAI), SHANGHAI)
    return plan


def dutybot(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DUTYBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def config(directory: Path, roster: str = SHEET_ROSTER) -> Path:
    return write_config(
        directory,
        base_url="http://127.0.0.1:9/bot",
        database_url=f"sqlite+aiosqlite:///{directory / 'x.db'}",
        roster=roster,
    )


def shifts_of(roster: Roster, unit: str) -> list[tuple[str, str, datetime, datetime]]:
    return sorted((s.position, s.person, s.start, s.end) for s in roster.shifts if s.unit == unit)


# --- the month: Excel dates, merged leader cells, names with spaces and ids ---------------------

OFFICERS = ["Wang Fang", "Li Lei", "刘 洋", "zhang.wei"]
OFFICER_IDS = ["wang.fang", "li.lei", "liu.yang", "zhang.wei"]


def december(directory: Path) -> Path:
    rows = []
    for n in range(31):
        day = date(2026, 12, 1) + timedelta(days=n)
        leader = ("赵敏" if n < 15 else "Qian Bo") if n in (0, 15) else None
        rows.append(day_row(day, OFFICERS[n % 4], leader=leader, backup=OFFICERS[(n + 1) % 4]))
    rows[0][6] = "139 0000 1111"  # 带班领导电话, merged with the leader
    # The leader (and their phone) is one merged cell over each half of the month.
    merges = ["F3:F17", "G3:G17", "F18:F33", "G18:G33"]
    return xlsx(directory / "值班表.xlsx", rows, merges=merges)


def test_a_month_imported_on_the_command_line_gives_the_right_person_at_a_dozen_times(
    tmp_path: Path,
) -> None:
    cfg = config(tmp_path)
    sheet = december(tmp_path)
    before = (tmp_path / "roster.toml").read_bytes()

    dry = dutybot(
        "roster", "import", str(sheet), "--unit", "water", "--config", str(cfg), cwd=tmp_path
    )
    assert dry.returncode == 0, dry.stderr
    assert "+[[shifts]]  # imported from 值班表.xlsx, sheet '12月', row 3" in dry.stdout
    assert '+phone = "139 0000 1111"' in dry.stdout  # Zhao Min had no phone
    assert "dry run, nothing written" in dry.stdout
    assert (tmp_path / "roster.toml").read_bytes() == before

    roster_path = tmp_path / "roster.toml"
    wrote = dutybot(
        "roster", "import", str(sheet), "--unit", "water", "--write", str(roster_path),
        "--config", str(cfg), cwd=tmp_path,
    )  # fmt: skip
    assert wrote.returncode == 0, wrote.stderr
    assert "phone: zhao.min gets '139 0000 1111'" in wrote.stdout
    after = roster_path.read_bytes()
    assert after.startswith(before.rstrip(b"\n")), "the rest of the file is kept byte for byte"

    roster = load(roster_path)
    assert roster.people["zhao.min"].phone == "139 0000 1111"
    for n in (0, 1, 2, 3, 9, 14, 15, 22, 30):
        at = local(f"2026-12-{n + 1:02d}T13:00")
        assert roster.holders("water", "officer", at) == (OFFICER_IDS[n % 4],), n
        assert roster.holders("water", "backup", at) == (OFFICER_IDS[(n + 1) % 4],), n
        assert roster.holders("water", "leader", at) == ("zhao.min" if n < 15 else "qian.bo",)
    # At the handovers, and outside the month the rotations are back.
    assert roster.holders("water", "officer", local("2026-12-01T07:59")) == ("li.lei",)
    assert roster.holders("water", "officer", local("2026-12-01T08:00")) == ("wang.fang",)
    assert roster.holders("water", "officer", local("2026-12-02T07:59")) == ("wang.fang",)
    assert roster.holders("water", "officer", local("2026-12-02T08:00")) == ("li.lei",)
    assert roster.holders("water", "officer", local("2027-01-01T08:00")) == ("li.lei",)
    # Consecutive rows under one merged leader cell are one shift.
    leaders = [s for s in shifts_of(roster, "water") if s[0] == "leader"]
    assert leaders == [
        ("leader", "qian.bo", local("2026-12-16T08:00"), local("2027-01-01T08:00")),
        ("leader", "zhao.min", local("2026-12-01T08:00"), local("2026-12-16T08:00")),
    ]

    shown = dutybot(
        "roster", "show", "--config", str(cfg), "--at", "2026-12-03 09:00", cwd=tmp_path
    )
    assert shown.returncode == 0, shown.stderr
    water = shown.stdout.split("Water Authority")[1]
    # phone numbers are shown where someone may need to ring (issue 12)
    assert "Officer: 刘洋 ☎ +86 138 0000 0009 — next handover 2026-12-04 08:00" in water
    assert "Backup: 张伟" in water
    assert "Leader: 赵敏 ☎ 139 0000 1111 — next handover 2026-12-16 08:00" in water


def test_importing_the_same_month_twice_changes_nothing_more(tmp_path: Path) -> None:
    roster_path = roster_file(tmp_path)
    sheet = december(tmp_path)
    do_import(sheet, roster_path)
    once = roster_path.read_bytes()
    plan = plan_import(sheet, load(roster_path), "water", TODAY)
    edit = edit_roster(roster_path, plan, SHANGHAI)
    assert edit.diff() == ""
    assert edit.replaced == len(plan.shifts)
    write_roster(edit, SHANGHAI)
    assert roster_path.read_bytes() == once


# --- a holiday block: day and night shifts, text dates, Excel time fractions ----------------------


def test_holiday_block_with_day_and_night_shifts_and_excel_times(tmp_path: Path) -> None:
    roster_path = roster_file(tmp_path)
    rows: list[list[Cell]] = []
    for n, (day_officer, night_officer) in enumerate(
        [("Wang Fang", "Li Lei"), ("刘洋", "New Hire"), ("Li Lei", "Wang Fang")]
    ):
        text_date = f"2027年1月{n + 1}日"
        weekday = "周" + "五六日"[n]
        # day shift: Excel time cells; night: a fraction of a day past midnight (1.3333 = 次日8:00)
        leader = "赵敏" if n == 0 else None  # one merged cell over the whole block
        rows.append([text_date, weekday, "白班", time(8), time(20), leader, None, day_officer])
        rows.append([text_date, weekday, "夜班", 20 / 24, 1 + 8 / 24, None, None, night_officer])
    sheet = xlsx(
        tmp_path / "元旦.xlsx",
        rows,
        headers=ZH[:8],
        sheet="元旦",
        merges=["F3:F8"],
        cover=True,
    )
    plan = do_import(sheet, roster_path)
    assert any("'说明': skipped" in note for note in plan.notes)
    assert plan.positions == ("leader", "officer")  # no 备班 column: backups stay as they were
    roster = load(roster_path)
    expect = {
        "2026-12-31T12:00": ("wang.fang", "qian.bo", "li.lei"),  # before: the rotations
        "2027-01-01T08:00": ("wang.fang", "zhao.min", "wang.fang"),
        "2027-01-01T19:59": ("wang.fang", "zhao.min", "wang.fang"),
        "2027-01-01T20:00": ("li.lei", "zhao.min", "wang.fang"),
        "2027-01-02T03:00": ("li.lei", "zhao.min", "wang.fang"),
        "2027-01-02T10:00": ("liu.yang", "zhao.min", "li.lei"),
        "2027-01-02T23:00": ("new.hire", "zhao.min", "li.lei"),
        "2027-01-03T12:00": ("li.lei", "zhao.min", "wang.fang"),
        "2027-01-04T07:59": ("wang.fang", "zhao.min", "wang.fang"),
        "2027-01-04T08:00": ("wang.fang", "qian.bo", "li.lei"),  # after: the rotations again
    }
    for at, (officer, leader, backup) in expect.items():
        got = tuple(roster.holders("water", p, local(at)) for p in ("officer", "leader", "backup"))
        assert got == ((officer,), (leader,), (backup,)), at


# --- CSV, English headers, dates without a year -------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_with_english_headers_and_dates_without_a_year(tmp_path: Path, encoding: str) -> None:
    roster_path = roster_file(tmp_path)
    lines = [
        "Date,Weekday,Start,End,Leader,Officer,Officer phone,Backup,Notes",
        "12/30,Wed,08:00,next day 08:00,Qian Bo,Wang Fang / Li Lei,1380001、1380002,,two on duty",
        "12/31,Thu,8:00,20:00,Qian Bo,刘 洋,,,",
        "12/31,Thu,20:00,24:00,Qian Bo,zhang.wei,,,",
        "1/1,Fri,00:00,8:00,Qian Bo,zhang.wei,,,",
    ]
    sheet = tmp_path / "roster.csv"
    # Excel in China saves CSV as GBK; elsewhere as UTF-8 with a byte order mark.
    sheet.write_bytes("\r\n".join(lines).encode(encoding))
    do_import(sheet, roster_path)
    roster = load(roster_path)
    two = roster.holders("water", "officer", local("2026-12-30T09:00"))
    assert sorted(two) == ["li.lei", "wang.fang"]
    assert roster.holders("water", "officer", local("2026-12-31T09:00")) == ("liu.yang",)
    assert roster.holders("water", "officer", local("2026-12-31T21:00")) == ("zhang.wei",)
    assert roster.holders("water", "officer", local("2027-01-01T07:00")) == ("zhang.wei",)
    assert roster.people["wang.fang"].phone == "1380001"
    assert roster.people["li.lei"].phone == "1380002"
    # 20:00 to 24:00 and 00:00 to 08:00 are one shift for 张伟.
    assert ("officer", "zhang.wei", local("2026-12-31T20:00"), local("2027-01-01T08:00")) in (
        shifts_of(roster, "water")
    )


# --- export, and export then import ---------------------------------------------------------------


def holders_every_hour(roster: Roster, unit: str, start: datetime, hours: int) -> list[object]:
    return [
        tuple(
            roster.holders(unit, p, start + timedelta(hours=h))
            for p in ("officer", "backup", "leader")
        )
        for h in range(hours)
    ]


@pytest.mark.parametrize(
    ("unit", "first", "last"),
    [
        ("water", date(2026, 12, 1), date(2026, 12, 14)),
        ("emergency", date(2026, 11, 26), date(2026, 12, 2)),
    ],
)
def test_export_then_import_gives_the_same_duty(
    tmp_path: Path, unit: str, first: date, last: date
) -> None:
    cfg = config(tmp_path)
    roster_path = tmp_path / "roster.toml"
    original = load(roster_path)
    out = tmp_path / "export.xlsx"
    result = dutybot(
        "roster", "export", "--unit", unit, "--from", first.isoformat(), "--to", last.isoformat(),
        str(out), "--config", str(cfg), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(out).worksheets[0]
    assert [c.value for c in sheet[2]] == ZH
    assert sheet.merged_cells.ranges, "a leader over several rows is a merged cell"

    plan = do_import(out, roster_path, unit)
    imported = load(roster_path)
    start = local(f"{first.isoformat()}T08:00")
    hours = ((last - first).days + 1) * 24
    assert holders_every_hour(imported, unit, start, hours) == holders_every_hour(
        original, unit, start, hours
    )
    assert plan.start == datetime.combine(first, time(8))
    assert plan.end == datetime.combine(last + timedelta(days=1), time(8))

    # And round again: the imported shifts export and import to exactly themselves.
    again = tmp_path / "again.xlsx"
    assert dutybot(
        "roster", "export", "--unit", unit, "--from", first.isoformat(), "--to", last.isoformat(),
        str(again), "--config", str(cfg), cwd=tmp_path,
    ).returncode == 0  # fmt: skip
    do_import(again, roster_path, unit)
    assert shifts_of(load(roster_path), unit) == shifts_of(imported, unit)


def test_the_empty_leader_day_of_the_emergency_bureau_exports_as_an_empty_cell(
    tmp_path: Path,
) -> None:
    from bot.rostersheet.exporter import export_rows

    roster = load(roster_file(tmp_path))
    rows = export_rows(roster, "emergency", date(2026, 11, 27), date(2026, 11, 29))
    assert [(r.start, r.holders["leader"]) for r in rows] == [
        (local("2026-11-27T08:00"), ("he.jun",)),
        (local("2026-11-28T08:00"), ()),
        (local("2026-11-29T08:00"), ("he.jun",)),
    ]


def test_an_import_trims_an_older_shift_that_reaches_over_its_edge(tmp_path: Path) -> None:
    # The emergency leader shift runs 29 Nov to 20 Dec; the sheet covers 1 to 7 Dec.
    roster_path = roster_file(tmp_path)
    rows = [
        day_row(date(2026, 12, 1) + timedelta(days=n), "Wu Gang", leader="Sun Li") for n in range(7)
    ]
    do_import(xlsx(tmp_path / "应急.xlsx", rows), roster_path, "emergency")
    roster = load(roster_path)
    assert roster.holders("emergency", "leader", local("2026-11-30T12:00")) == ("he.jun",)
    assert roster.holders("emergency", "leader", local("2026-12-04T12:00")) == ("sun.li",)
    assert roster.holders("emergency", "leader", local("2026-12-10T12:00")) == ("he.jun",)
    leaders = [s for s in shifts_of(roster, "emergency") if s[0] == "leader"]
    assert [(s[1], s[2], s[3]) for s in leaders] == [
        ("he.jun", local("2026-11-27T08:00"), local("2026-11-28T08:00")),
        ("he.jun", local("2026-11-29T08:00"), local("2026-12-01T08:00")),
        ("he.jun", local("2026-12-08T08:00"), local("2026-12-20T08:00")),
        ("sun.li", local("2026-12-01T08:00"), local("2026-12-08T08:00")),
    ]


# --- phones ---------------------------------------------------------------------------------------


def test_phones_fill_the_roster_where_it_has_none_and_keep_the_roster_s_otherwise(
    tmp_path: Path,
) -> None:
    roster_path = roster_file(tmp_path)
    rows = [day_row(date(2026, 12, 1), "Li Lei"), day_row(date(2026, 12, 2), "刘洋")]
    rows[0][8] = 13800000002  # a phone Excel stored as a number
    rows[1][8] = "13999999999"
    plan = do_import(xlsx(tmp_path / "s.xlsx", rows), roster_path)
    roster = load(roster_path)
    assert roster.people["li.lei"].phone == "13800000002"
    assert roster.people["liu.yang"].phone == "+86 138 0000 0009"
    assert [n for n in plan.notes if "liu.yang" in n and "roster keeps" in n]


def test_phone_is_an_optional_string_on_roster_people(tmp_path: Path) -> None:
    roster = load(roster_file(tmp_path))
    assert roster.people["liu.yang"].phone == "+86 138 0000 0009"
    assert roster.people["wang.fang"].phone is None
    broken = roster_file(
        tmp_path, SHEET_ROSTER.replace('phone = "+86 138 0000 0009"', "phone = 138")
    )
    with pytest.raises(ConfigError, match=r"\[people\[\d+\]\] phone: expected a non-empty string"):
        load(broken)


# --- bad input: every problem by sheet, row and column, and nothing written --------------------


def week() -> list[list[Cell]]:
    return [
        day_row(date(2026, 12, 1) + timedelta(days=n), ["Wang Fang", "Li Lei"][n % 2])
        for n in range(7)
    ]


def _unknown(rows: list[list[Cell]]) -> None:
    rows[1][7] = "王五"


def _ambiguous(rows: list[list[Cell]]) -> None:
    rows[1][7] = "张伟"


def _overlap(rows: list[list[Cell]]) -> None:
    rows[2][3] = "7:00"


def _hole(rows: list[list[Cell]]) -> None:
    rows[2][3] = "9:00"


def _end_before_start(rows: list[list[Cell]]) -> None:
    rows[3][4] = "8:00"


def _weekday(rows: list[list[Cell]]) -> None:
    rows[0][1] = "星期三"


def _bad_date(rows: list[list[Cell]]) -> None:
    rows[4][0] = "12月32日"


def _bad_time(rows: list[list[Cell]]) -> None:
    rows[5][4] = "次日25:00"


def _no_officer(rows: list[list[Cell]]) -> None:
    rows[6][7] = None


def _phones(rows: list[list[Cell]]) -> None:
    rows[0][7], rows[0][8] = "Wang Fang、Li Lei", "13800000001"


BAD = {
    "unknown name": (_unknown, ["row 4", "column H (值班员)", "unknown person '王五'"]),
    "ambiguous name": (_ambiguous, ["row 4", "column H (值班员)", "ambiguous", "zhang.wei2"]),
    "overlap": (_overlap, ["row 5", "column D (开始时间)", "overlaps row 4"]),
    "hole": (
        _hole,
        ["row 5", "column D", "a hole", "from 2026-12-03 08:00", "to 2026-12-03 09:00"],
    ),
    "end before start": (_end_before_start, ["row 6", "column E (结束时间)", "次日08:00"]),
    "weekday": (_weekday, ["row 3", "column B (星期)", "expected 星期二 for 2026-12-01", "星期三"]),
    "bad date": (_bad_date, ["row 7", "column A (日期)", "expected a date", "12月32日"]),
    "bad time": (_bad_time, ["row 8", "column E", "expected a time like 08:00", "次日25:00"]),
    "no officer": (_no_officer, ["row 9", "column H (值班员)", "empty cell"]),
    "phones": (_phones, ["row 3", "column I (值班员电话)", "one phone per name"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_rows_are_named_by_sheet_row_and_column_and_nothing_is_written(
    tmp_path: Path, case: str
) -> None:
    spoil, expected = BAD[case]
    rows = week()
    spoil(rows)
    sheet = xlsx(tmp_path / "值班表.xlsx", rows)
    roster_path = roster_file(tmp_path)
    before = roster_path.read_bytes()
    with pytest.raises(SheetError) as caught:
        plan_import(sheet, load(roster_path), "water", TODAY)
    assert len(caught.value.problems) == 1, str(caught.value)
    message = str(caught.value.problems[0])
    assert message.startswith("值班表.xlsx, sheet '12月', ")
    for fragment in expected:
        assert fragment in message, (fragment, message)
    assert roster_path.read_bytes() == before


def test_every_problem_is_reported_in_one_pass_with_exit_code_2(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    rows = week()
    for spoil in (_unknown, _hole, _end_before_start, _weekday, _no_officer):
        spoil(rows)
    sheet = xlsx(tmp_path / "值班表.xlsx", rows)
    roster_path = tmp_path / "roster.toml"
    before = roster_path.read_bytes()
    result = dutybot(
        "roster", "import", str(sheet), "--unit", "water", "--write", str(roster_path),
        "--config", str(cfg), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert [line.split(", column")[0] for line in lines[:-1]] == [
        "error: 值班表.xlsx, sheet '12月', row 3",
        "error: 值班表.xlsx, sheet '12月', row 4",
        "error: 值班表.xlsx, sheet '12月', row 5",
        "error: 值班表.xlsx, sheet '12月', row 6",
        "error: 值班表.xlsx, sheet '12月', row 9",
    ]
    assert lines[-1] == f"error: 5 problems in {sheet}; nothing written"
    assert roster_path.read_bytes() == before


def test_a_file_without_the_headers_or_an_unknown_unit_is_refused(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    sheet = tmp_path / "list.csv"
    sheet.write_text("name,phone\nWang Fang,1\n")
    result = dutybot(
        "roster", "import", str(sheet), "--unit", "water", "--config", str(cfg), cwd=tmp_path
    )
    assert result.returncode == 2
    assert (
        "list.csv: no roster table found: expected a header row with 日期 and 值班员"
        in result.stderr
    )
    result = dutybot(
        "roster", "import", str(sheet), "--unit", "sewage", "--config", str(cfg), cwd=tmp_path
    )
    assert result.returncode == 2
    assert "--unit: unknown unit 'sewage'" in result.stderr
    result = dutybot(
        "roster", "export", "--unit", "water", "--from", "2026-12-01", "--to", "1 Dec",
        str(tmp_path / "x.xlsx"), "--config", str(cfg), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--to: expected a date like 2026-12-01, got '1 Dec'" in result.stderr


def test_the_template_in_the_repository_imports_against_the_example_roster(tmp_path: Path) -> None:
    template = REPO / "roster.template.xlsx"
    roster_path = tmp_path / "roster.toml"
    roster_path.write_bytes((REPO / "roster.example.en.toml").read_bytes())
    plan = do_import(template, roster_path)
    assert plan.positions == ("leader", "officer", "backup")
    assert plan.start == datetime(2026, 12, 1, 8) and plan.end == datetime(2026, 12, 8, 8)
    assert load(roster_path).holders("water", "officer", local("2026-12-02T09:00")) == ("li.lei",)
