"""The bulletin's arithmetic against a hand-computed fixture (day, week, month), its periods,
its chart in Chinese, and its exports (XLSX, DOCX) from the database and from the command line."""

from __future__ import annotations

import logging
import warnings
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document as Docx
from openpyxl import load_workbook

from bot import chart
from bot.cli import main as dutybot
from bot.configuration import Configuration, load_configuration
from bot.db.engine import Database
from bot.db.migrate import upgrade
from bot.db.models import Deadline, DirectiveRequest, DirectiveRow, DutyShift, SpotCheck
from bot.i18n import translator
from bot.identity.service import sync_roster
from bot.runtime import Runtime, runtime_from
from bot.supervision import documents, figures, messaging, periods
from bot.supervision import service as supervision_service
from bot.supervision.figures import Bulletin, compute_bulletin
from scheduling.clock import FakeClock
from tests.botapi import StandInBotApi
from tests.harness import (
    CHEN,
    GAO,
    LI,
    QIAN,
    SUN,
    XU,
    ZHOU,
    BotHarness,
    alert_for,
    file_report,
    quick_report,
    seed_bulletin_fixture,
    utc,
    write_config,
)

TZ = ZoneInfo("Asia/Shanghai")
HANDOVER = time(8, 0)
NOW = utc(27, 6)  # 27 November, 14:00 local
UNITS = ["city", "emergency", "water"]
KEYS = (
    "received",
    "accept_median",
    "accept_worst",
    "closed",
    "open_at_end",
    "initial_report_on_time",
    "initial_report_late",
    "initial_report_missing",
    "followup_on_time",
    "followup_late",
    "followup_missing",
)
# Worked out by hand from the fixture's docstring (tests/harness.py), unit by unit.
EXPECTED = {
    "day": {  # duty day 26 Nov: [26 00:00, 27 00:00) UTC
        "city": (0, None, None, 0, 0, 0, 0, 0, 0, 0, 0),
        # #3 arrives by transfer, #5 by report; accepted after 5 and 30 min; #3 closed
        "emergency": (2, 17.5, 30, 1, 1, 1, 0, 0, 0, 1, 0),
        # #2 and #3 received; accepted after 10 and 20 min; #3's late initial stays here, #2's
        # initial missing (漏报), #1's follow-up missing today (its renewal is not a second one)
        "water": (2, 15, 20, 0, 2, 0, 1, 1, 0, 0, 1),
    },
    "week": {  # Monday 23 Nov 08:00 local up to now
        "city": (1, 2, 2, 0, 1, 1, 0, 0, 0, 0, 0),
        "emergency": (2, 17.5, 30, 1, 1, 1, 0, 0, 0, 1, 1),
        "water": (2, 15, 20, 0, 2, 0, 1, 1, 1, 0, 1),
    },
    "month": {  # 1 Nov 08:00 local up to now; #6 was reported on 31 Oct's duty day
        "city": (1, 2, 2, 0, 1, 1, 0, 0, 0, 0, 0),
        "emergency": (2, 17.5, 30, 1, 1, 1, 0, 0, 0, 1, 1),
        "water": (3, 10, 20, 1, 2, 1, 1, 1, 1, 0, 1),
    },
}


@pytest.fixture
async def seeded(database_url: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """The fixture in a migrated database, with the test city's roster; the clock at NOW."""
    config = write_config(tmp_path, base_url="http://127.0.0.1:9", database_url=database_url)
    configuration: Configuration = load_configuration(config)
    runtime = runtime_from(configuration, FakeClock(NOW))
    await upgrade(runtime.database)
    async with runtime.database.transaction() as session:
        await sync_roster(session, configuration.roster, NOW)
        await seed_bulletin_fixture(session)
    yield runtime
    await runtime.database.close()


def period(kind: str) -> tuple[object, object]:
    return periods.period_of(kind, date(2026, 11, 26), HANDOVER, TZ, now=NOW)


async def numbers(database: Database, kind: str) -> Bulletin:
    start, end = periods.period_of(kind, date(2026, 11, 26), HANDOVER, TZ, now=NOW)
    async with database.sessions() as session:
        return await compute_bulletin(session, UNITS, start, end)


@pytest.mark.parametrize("kind", ["day", "week", "month"])
async def test_bulletin_numbers_match_the_hand_computed_fixture(seeded: Runtime, kind: str) -> None:
    bulletin = await numbers(seeded.database, kind)
    for unit in UNITS:
        got = tuple(bulletin.value(key, unit) for key in KEYS)
        assert got == EXPECTED[kind][unit], f"{kind} {unit}: {dict(zip(KEYS, got, strict=True))}"


async def test_a_transfer_leaves_lateness_with_the_unit_that_held_the_deadline(
    seeded: Runtime,
) -> None:
    bulletin = await numbers(seeded.database, "day")
    assert bulletin.value("initial_report_late", "water") == 1
    assert bulletin.value("initial_report_late", "emergency") == 0
    assert bulletin.value("accept_worst", "emergency") == 30  # #3: 5 minutes, not 125


def test_duty_periods_start_at_the_handover_hour_in_local_time() -> None:
    assert periods.duty_date(utc(26, 23, 59), HANDOVER, TZ) == date(2026, 11, 26)  # 07:59
    assert periods.duty_date(utc(27, 0), HANDOVER, TZ) == date(2026, 11, 27)  # 08:00
    assert periods.period_of("day", date(2026, 11, 26), HANDOVER, TZ) == (utc(26, 0), utc(27, 0))
    assert periods.period_of("week", date(2026, 11, 26), HANDOVER, TZ) == (utc(23, 0), utc(30, 0))
    assert periods.period_of("month", date(2026, 12, 31), HANDOVER, TZ) == (
        utc(1, 0, month=12),
        utc(31, 0, month=12).replace(year=2027, month=1, day=1),
    )
    assert periods.period_of("week", date(2026, 11, 26), HANDOVER, TZ, now=NOW)[1] == NOW
    today = date(2026, 11, 27)
    assert periods.parse_period([], today) == ("day", None)
    assert periods.parse_period(["month", "2026-10-05"], today) == ("month", date(2026, 10, 5))
    assert periods.parse_period(["week", "11月23日"], today) == ("week", date(2026, 11, 23))
    assert periods.parse_period(["11-26"], today) == ("day", date(2026, 11, 26))
    assert periods.parse_period(["fortnight"], today) is None


def test_a_new_figure_is_one_registered_function() -> None:
    before = len(figures.FIGURES)

    @figures.figure("spot_checks_missed", "spot checks missed", table=figures.REPORTS)
    async def missed(session: object, window: figures.Window) -> dict[str, figures.Value]:
        return {"water": 3}

    try:
        assert figures.FIGURES[-1].key == "spot_checks_missed"
        assert len(figures.FIGURES) == before + 1
    finally:
        figures.FIGURES.pop()


async def test_the_workbook_holds_the_chat_bulletin_as_numbers_with_chinese_headers(
    seeded: Runtime,
) -> None:
    bulletin = await numbers(seeded.database, "week")
    for language in ("en", "zh"):
        tr = translator(language)
        text = messaging.bulletin_text(tr, seeded, bulletin, "week")
        book = load_workbook(
            BytesIO(documents.bulletin_workbook(tr, seeded, bulletin, "week").data)
        )
        assert book.sheetnames == [tr._(t) for t in figures.TABLES.values()]
        shown = chat_numbers(tr, text, seeded)
        for table, items in bulletin.tables():
            sheet = book[tr._(figures.TABLES[table])]
            rows = list(sheet.iter_rows(min_row=2, values_only=True))
            assert rows[0] == (tr._("Unit"), *(tr._(f.heading) for f in items))
            for unit, row in zip(bulletin.units, rows[1:], strict=True):
                assert row[0] == seeded.roster.units[unit].name
                for item, cell in zip(items, row[1:], strict=True):
                    assert cell is None or isinstance(cell, int | float)
                    chat = shown[unit][tr._(item.heading)]
                    assert (f"{cell:.0f}" if cell is not None else "—") == chat
    zh = translator("zh")
    book = load_workbook(BytesIO(documents.bulletin_workbook(zh, seeded, bulletin, "week").data))
    headers = [c.value for c in book[zh._(figures.TABLES["reports"])][2]]
    assert all(isinstance(h, str) and not h.isascii() for h in headers)


def chat_numbers(tr: object, text: str, runtime: Runtime) -> dict[str, dict[str, str]]:
    """Per unit, heading → number as the chat bulletin shows it."""
    out: dict[str, dict[str, str]] = {}
    names = {u.name: key for key, u in runtime.roster.units.items()}
    unit = None
    for line in text.splitlines():
        if line in names:
            unit = names[line]
            out[unit] = {}
        elif unit and (": " in line or "：" in line):
            for part in line.replace("：", ": ", 1).split(": ", 1)[1].split(" · "):
                heading, _, value = part.rpartition(" ")
                out[unit][heading] = value
    return out


async def test_the_dossier_holds_every_report_and_timeline_entry(seeded: Runtime) -> None:
    from bot.db.models import OfficialReport
    from bot.supervision import flows

    async with seeded.database.transaction() as session:
        session.add_all(
            [
                OfficialReport(
                    incident_id=3,
                    kind=kind,
                    number=number,
                    author_id="wang.fang",
                    approved_by=signer,
                    state="filed",
                    fields={"what_happened": f"text of {kind}", "measures": "pumps"},
                    created_at=at,
                    filed_at=at,
                    late=kind == "initial",
                )
                for kind, number, signer, at in (
                    ("initial", 0, "qian.bo", utc(26, 5, 30)),
                    ("final", 0, None, utc(26, 10)),
                )
            ]
        )
    for language in ("en", "zh"):
        tr = translator(language)
        async with seeded.database.sessions() as session:
            dossier = await flows.export_incident(session, seeded, None, 3, tr)
            events = await flows.supervision.timeline(session, 3)
        assert isinstance(dossier, documents.Document)
        text = "\n".join(p.text for p in Docx(BytesIO(dossier.data)).paragraphs)
        assert "text of initial" in text and "text of final" in text
        assert "Qian Bo" in text and "Wang Fang" in text
        for event in events:
            assert messaging.event_line(tr, seeded, event) in text
        assert len(events) == 4


def test_the_chart_draws_chinese_labels_with_a_font_that_has_the_glyphs() -> None:
    labels = ["水务局", "应急管理局", "首报", "按时", "迟报", "漏报"]
    assert chart.cjk_font() is not None
    path = chart.chart_font_path()
    assert path is not None and chart.has_glyphs(path, "".join(labels))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)"
        png = chart.on_time_chart(
            labels[:2],
            [(labels[3], [2, 1]), (labels[4], [1, 0]), (labels[5], [0, 1])],
            title="首报",
        )
    assert png.startswith(b"\x89PNG")


def test_without_a_cjk_font_the_chart_falls_back_to_latin_labels_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(chart, "_packaged_font", lambda: None)
    monkeypatch.setattr(chart, "_system_font", lambda: None)
    chart.cjk_font.cache_clear()
    drawn: list[tuple[list[str], str]] = []
    monkeypatch.setattr(
        chart,
        "on_time_chart",
        lambda units, series, title: drawn.append((units + [s[0] for s in series], title)) or b"",
    )
    try:
        with caplog.at_level(logging.WARNING, logger="bot.chart"):
            runtime = type("R", (), {"roster": type("X", (), {"units": {}})()})()
            bulletin = Bulletin([], utc(26, 0), utc(27, 0))
            for _ in range(3):
                messaging.bulletin_chart(translator("zh"), runtime, bulletin)  # type: ignore[arg-type]
        assert [r.message for r in caplog.records].count(
            "no CJK font found: the bulletin's chart is drawn with Latin labels"
        ) == 1
        assert all(label.isascii() for labels, title in drawn for label in [*labels, title])
    finally:
        chart.cjk_font.cache_clear()


def test_the_command_line_writes_both_exports(seeded: Runtime, tmp_path: Path) -> None:
    config = str(seeded.settings.config_file)
    out = tmp_path / "november.xlsx"
    assert (
        dutybot(
            ["export", "bulletin", "month", "2026-11-26", "--config", config, "--out", str(out)]
        )
        == 0
    )
    book = load_workbook(out)
    assert book.sheetnames == ["Incidents", "Reports", "Duty discipline", "Directives"]
    dossier = tmp_path / "incident-3.docx"
    assert (
        dutybot(
            ["export", "incident", "3", "--config", config, "--out", str(dossier), "--lang", "zh"]
        )
        == 0
    )
    heading = translator("zh")._("Incident dossier #{number}").format(number=3)
    assert heading in "\n".join(p.text for p in Docx(str(dossier)).paragraphs)
    assert dutybot(["export", "incident", "99", "--config", config]) == 1


async def test_an_office_receives_the_dossier_of_a_closed_incident_as_a_document(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    assert harness.runtime is not None
    harness.open_chats(XU, LI, ZHOU, QIAN, SUN, CHEN, GAO)
    xu, li = harness.user(XU, "Xu"), harness.user(LI, "Li")
    number = await quick_report(harness, xu, "Burst pipe under the bridge")
    await alert_for(li)
    await li.send(f"/accept {number}")
    await li.next_message()
    await file_report(li, f"/initial {number}", {0: "A pipe burst at 13:50"})
    await file_report(li, f"/followup {number}", {4: "Valves closed, crews on site"})
    await file_report(li, f"/final {number}", {0: "Repaired at 15:10"})
    zhou = harness.user(ZHOU, "Zhou")
    await zhou.send("/lang zh")
    await zhou.next_message()
    await zhou.send(f"/export incident {number}")
    sent = await zhou.next_message()
    assert (
        sent.method == "sendDocument" and sent.payload["document_name"] == f"incident-{number}.docx"
    )
    text = "\n".join(p.text for p in Docx(BytesIO(sent.payload["document_bytes"])).paragraphs)
    zh = translator("zh")
    async with harness.runtime.database.sessions() as session:
        events = await supervision_service.timeline(session, number)
        reports = await supervision_service.filed_reports(session, number)
    assert len(reports) == 3
    for report in reports:
        for line in documents.report_lines(zh, harness.runtime, report):
            assert line in text
    assert {"A pipe burst at 13:50", "Valves closed, crews on site", "Repaired at 15:10"} <= {
        line.split("：", 1)[-1] for line in text.splitlines()
    }
    assert len(events) > 5
    for event in events:
        assert messaging.event_line(zh, harness.runtime, event) in text


def test_a_document_over_telegrams_limit_is_refused_before_it_is_queued() -> None:
    from bot.delivery.outbox import MAX_DOCUMENT, DocumentTooLarge, enqueue_document

    queued: list[object] = []
    session = type("S", (), {"add": lambda self, row: queued.append(row)})()
    row = enqueue_document(session, 1, b"x" * MAX_DOCUMENT, "ok.xlsx", "c")  # type: ignore[arg-type]
    assert row.method == "sendDocument" and row.filename == "ok.xlsx" and queued == [row]
    with pytest.raises(DocumentTooLarge):
        enqueue_document(session, 1, b"x" * (MAX_DOCUMENT + 1), "big.xlsx")  # type: ignore[arg-type]
    assert len(queued) == 1


async def test_handovers_and_spot_checks_are_counted_for_their_unit_and_duty_day(
    seeded: Runtime,
) -> None:
    # Duty day 26 November: 08:00 on the 26th to 08:00 on the 27th, Shanghai (00:00 UTC).
    day = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    async with seeded.database.transaction() as session:
        for unit, hours, late in (
            ("water", 0, False),  # 08:00 handover, taken over in time
            ("water", 12, True),  # 20:00 handover, taken over late
            ("emergency", 0, False),
            ("water", 24, True),  # the next duty day: not counted
        ):
            session.add(
                DutyShift(
                    unit_id=unit,
                    starts_at=day + timedelta(hours=hours),
                    handover=True,
                    late=late,
                    incoming=[],
                    outgoing=[],
                )
            )
        session.add(  # the holders did not change: not a handover
            DutyShift(unit_id="water", starts_at=day + timedelta(hours=6), handover=False)
        )
        for unit, hours, state in (
            ("water", 2, "answered"),
            ("water", 5, "missed"),
            ("water", 9, "answered"),
            ("emergency", 3, "missed"),
            ("emergency", 4, "pending"),  # not decided yet: not counted
            ("water", 30, "missed"),  # the next duty day
        ):
            asked = day + timedelta(hours=hours)
            session.add(
                SpotCheck(
                    unit_id=unit,
                    asked_at=asked,
                    due_at=asked + timedelta(minutes=5),
                    state=state,
                    officers=[],
                )
            )
    bulletin = await numbers(seeded.database, "day")
    expected = {
        "water": {
            "handovers": 2,
            "handovers_late": 1,
            "spotchecks_answered": 2,
            "spotchecks_missed": 1,
        },
        "emergency": {
            "handovers": 1,
            "handovers_late": 0,
            "spotchecks_answered": 0,
            "spotchecks_missed": 1,
        },
    }
    for unit, figures_of_unit in expected.items():
        for key, value in figures_of_unit.items():
            assert bulletin.value(key, unit) == value, (unit, key)


async def test_directive_figures_match_a_hand_computed_fixture(seeded: Runtime) -> None:
    """Duty day 26 Nov [26 00:00, 27 00:00) UTC. Water: D1 received in time and closed on time,
    D2 received late, its deadline missed, then extended; D3 received the day before (not
    counted), closed late today (not on time). Emergency: D4 received late today, its extension
    asked but refused; D5 closed on time the next day (not counted)."""
    day = datetime(2026, 11, 26, 0, 0, tzinfo=UTC)

    def directive(unit: str, **values: object) -> DirectiveRow:
        fields: dict[str, object] = {
            "issuer_id": "zhou.hua",
            "lead_unit_id": unit,
            "assisting": [],
            "urgency": "urgent",
            "text": "t",
            "attachments": [],
            "state": "received",
            "issued_at": day - timedelta(hours=2),
            "due_at": day + timedelta(hours=20),
            "receive_late": False,
            "overdue": False,
            "extensions": 0,
            "sent_back": 0,
            "version": 1,
        }
        fields.update(values)
        return DirectiveRow(**fields)

    async with seeded.database.transaction() as session:
        rows = [
            directive(
                "water",
                received_at=day + timedelta(hours=1),
                state="closed",
                closed_at=day + timedelta(hours=9),
                closed_on_time=True,
            ),
            directive("water", received_at=day + timedelta(hours=2), receive_late=True),
            directive(
                "water",
                received_at=day - timedelta(hours=1),
                state="closed",
                closed_at=day + timedelta(hours=5),
                closed_on_time=False,
            ),
            directive("emergency", received_at=day + timedelta(hours=3), receive_late=True),
            directive(
                "emergency",
                received_at=day + timedelta(hours=4),
                state="closed",
                closed_at=day + timedelta(hours=30),
                closed_on_time=True,
            ),
        ]
        session.add_all(rows)
        await session.flush()
        d2, d4 = rows[1], rows[3]
        session.add(
            Deadline(
                directive_id=d2.id,
                kind="dir_due",
                due_at=day + timedelta(hours=6),
                state="fired",
                fired_at=day + timedelta(hours=6),
                late=True,
                data={},
            )
        )
        for directive_row, state in ((d2, "approved"), (d4, "refused")):
            session.add(
                DirectiveRequest(
                    directive_id=directive_row.id,
                    until=day + timedelta(days=3),
                    reason="r",
                    requested_by="wang.fang",
                    requested_at=day + timedelta(hours=7),
                    state=state,
                    decided_at=day + timedelta(hours=8),
                )
            )
    bulletin = await numbers(seeded.database, "day")
    expected = {
        "water": (2, 1, 1, 1, 1),
        "emergency": (2, 1, 0, 0, 0),
        "city": (0, 0, 0, 0, 0),
    }
    keys = (
        "directives_received",
        "directives_received_late",
        "directives_closed_on_time",
        "directives_overdue",
        "directives_extended",
    )
    for unit, values in expected.items():
        got = tuple(bulletin.value(key, unit) for key in keys)
        assert got == values, (unit, dict(zip(keys, got, strict=True)))
