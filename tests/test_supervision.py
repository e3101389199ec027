"""The supervisor's view: /status with colours, /overdue, /incident, the bulletin."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from bot.db.models import Deadline, IncidentRow, OutboxMessage
from bot.supervision import messaging
from tests.botapi import StandInBotApi
from tests.harness import (
    CHEN,
    GAO,
    HE,
    LI,
    MA,
    MECHANISM_LEVELS,
    QIAN,
    SUN,
    WANG,
    WU,
    XU,
    ZHENG,
    ZHOU,
    BotHarness,
    ConnectionHolders,
    alert_for,
    catch_up,
    quick_report,
    said,
    says,
    seed_bulletin_fixture,
    seed_watched,
    write_config,
)

EVERYONE = (WANG, LI, QIAN, CHEN, SUN, WU, ZHENG, HE, GAO, ZHOU)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def config_path(tmp_path: Path, botapi: StandInBotApi, database_url: str) -> Path:
    """The test city on the one-stage clock these tests were written for."""
    return write_config(
        tmp_path, base_url=botapi.base_url, database_url=database_url, extra=MECHANISM_LEVELS
    )


def line_of(text: str, number: int) -> str:
    return next(line for line in text.splitlines() if f" #{number} " in line)


async def seed_the_afternoon(harness: BotHarness, botapi: StandInBotApi) -> None:
    """Ends at 14:25 local: #1 water, accepted, initial report due 15:00; #2 emergency, never
    accepted, escalated up to the city; #3 water, acceptance missed at 14:24, escalation still
    inside the unit; #4 water, to be accepted by 14:30."""
    harness.open_chats(*EVERYONE)
    xu, ma = harness.user(XU, "Xu"), harness.user(MA, "Ma")
    assert await quick_report(harness, xu, "Collapsed retaining wall") == 1
    wang = harness.user(WANG, "Wang", "en")
    await alert_for(wang)
    await wang.send("/accept 1")
    await wang.next_message()
    assert await quick_report(harness, ma, "Chlorine smell at the pool") == 2
    await harness.advance(timedelta(minutes=14))
    assert await quick_report(harness, xu, "Water main leak on 5th Avenue") == 3
    await harness.advance(timedelta(minutes=6))
    assert await quick_report(harness, xu, "Flooded basement on Elm Street") == 4
    await harness.advance(timedelta(minutes=5))
    await harness.quiet()


async def test_status_and_overdue_show_exactly_the_scope_with_the_right_colours(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    await seed_the_afternoon(harness, botapi)
    gao = harness.user(GAO, "Gao")  # the water authority's supervisor
    await gao.send("/status")
    text = (await gao.next_message()).text
    assert "Open incidents: 3" in text
    assert " #2 " not in text  # another bureau's
    assert line_of(text, 1).startswith("▫️") and "initial report due 2026-11-27 15:00" in text
    assert line_of(text, 3).startswith("🟡")
    assert line_of(text, 4).startswith("🔵")
    zhou = harness.user(ZHOU, "Zhou")  # the city's supervisor sees every unit
    await zhou.send("/status")
    text = (await zhou.next_message()).text
    assert "Open incidents: 4 — 🔴 1 · 🟡 1 · 🔵 1" in text
    assert line_of(text, 2).startswith("🔴")
    await zhou.send("/overdue")
    overdue = (await zhou.next_message()).text.splitlines()
    assert overdue[0] == "Overdue: 2"
    assert overdue[1].startswith("#2 ") and "late by 15 min" in overdue[1]
    assert overdue[2].startswith("#3 ") and "late by 1 min" in overdue[2]
    await gao.send("/overdue")
    assert (await gao.next_message()).text.startswith("Overdue: 1")
    xu = harness.user(XU, "Xu")
    await xu.send("/status")
    assert "for supervisors" in (await xu.next_message()).text


def heading_counts(text: str) -> tuple[str, str, str, str]:
    """The total and the 🔴 🟡 🔵 counts heading a first /status page, as shown."""
    match = re.match(r"Open incidents: (\S+) — 🔴 (\S+) · 🟡 (\S+) · 🔵 (\S+)", text)
    assert match is not None, text[:200]
    total, red, yellow, blue = match.groups()
    return total, red, yellow, blue


def line_colours(text: str) -> tuple[str, str, str, str]:
    """The same four numbers tallied from the page's own lines."""
    colours = [line.split()[0] for line in text.splitlines() if " #" in line]
    red, yellow, blue = (str(colours.count(c)) for c in ("🔴", "🟡", "🔵"))
    return str(len(colours)), red, yellow, blue


async def test_the_status_counts_agree_with_the_colours_of_the_lines_as_time_passes(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    """The counts are read from indexes, not from the lines: at every moment of the
    afternoon — a deadline near (🔵), its warning fired (🟡), late by less than a step (🟡),
    by more (🔴) — they still say what the lines say."""
    await seed_the_afternoon(harness, botapi)
    zhou = harness.user(ZHOU, "Zhou")
    first = []
    for minutes in (0, 10, 17, 5, 5, 5, 5, 10, 30):  # 14:25 → 15:52
        await harness.advance(timedelta(minutes=minutes))
        await harness.quiet()
        catch_up(zhou)
        await zhou.send("/status")
        text = (await zhou.next_message()).text
        assert heading_counts(text) == line_colours(text), text
        first.append(line_of(text, 1).split()[0])
    # #1, its initial report due 15:00: nothing near, its warning fired at 14:52 (not late
    # yet), late by less than a step, then by more
    assert first[:3] == ["▫️", "▫️", "🟡"] and first[-1] == "🔴"
    async with harness.runtime.database.sessions() as session:  # type: ignore[union-attr]
        warned = await session.scalar(
            select(Deadline.warned_at).where(
                Deadline.incident_id == 1, Deadline.kind == "initial_report"
            )
        )
    assert warned == datetime(2026, 11, 27, 6, 52, tzinfo=UTC)  # 14:52: when its warning fired


async def test_status_counts_are_exact_below_a_thousand_and_capped_from_there(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    """Each /status count reads at most 1,000 rows, so the first page costs the same over any
    number of open incidents: below that it is exact, from there it says "1000+"."""
    assert harness.runtime is not None
    now = harness.clock.now()  # the escalation step is 5 minutes, the warning time 10
    gao = harness.user(GAO, "Gao")

    async def heading() -> tuple[str, str, str, str]:
        catch_up(gao)
        await gao.send("/status")
        return heading_counts((await gao.next_message(timeout=30)).text)

    async with harness.runtime.database.transaction() as session:
        await seed_watched(session, "water", 999, "accept", "fired", now - timedelta(minutes=30))
        await seed_watched(session, "water", 1, "accept", "fired", now - timedelta(minutes=2))
        await seed_watched(
            session,
            "water",
            1,
            "initial_report",
            "pending",
            now + timedelta(minutes=5),
            warned_at=now,
        )
        await seed_watched(session, "water", 999, "accept", "pending", now + timedelta(minutes=3))
        await seed_watched(session, "water", 7, "accept", "pending", now + timedelta(hours=1))
        await seed_watched(session, "emergency", 5, "accept", "fired", now - timedelta(hours=1))
    # 2,007 open in the water authority (the emergency bureau's five are not Gao's to see)
    assert await heading() == ("1000+", "999", "2", "999")
    async with harness.runtime.database.transaction() as session:
        await seed_watched(session, "water", 1, "accept", "fired", now - timedelta(minutes=30))
        await seed_watched(session, "water", 1, "accept", "pending", now + timedelta(minutes=3))
    assert await heading() == ("1000+", "1000+", "2", "1000+")


async def test_incident_shows_the_whole_timeline_in_order(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    await seed_the_afternoon(harness, botapi)
    zhou = harness.user(ZHOU, "Zhou")
    await zhou.send("/incident 2")
    text = (await zhou.next_message()).text
    timeline = text.split("Timeline:")[1].strip().splitlines()
    assert [line.split(" · ", 1)[1].split(":")[0] for line in timeline[:3]] == [
        "reported by Ma Lin",
        "alert sent to Wu Gang, Zheng Mei",
        "deadline missed",
    ]
    assert timeline[0].startswith("2026-11-27 14:00")
    assert "escalation, rung 1: told He Jun" in text
    assert "escalation, rung 2: told Chen Jing, Sun Li" in text
    assert text.index("rung 1") < text.index("rung 2")
    assert "acceptance: 2026-11-27 14:10 · missed · LATE by 15 min" in text
    gao = harness.user(GAO, "Gao")
    await gao.send("/incident 2")
    assert "outside what you may see" in (await gao.next_message()).text


async def test_status_in_chinese(harness: BotHarness, botapi: StandInBotApi) -> None:
    await seed_the_afternoon(harness, botapi)
    zhou = harness.user(ZHOU, "Zhou")
    await zhou.send("/lang zh")
    await zhou.next_message()
    await zhou.send("/status")
    text = (await zhou.next_message()).text
    assert "未办结事件：4" in text and "督办" not in text
    await zhou.send("/overdue")
    assert "超时事项：2" in (await zhou.next_message()).text


async def test_two_hundred_open_incidents_come_in_pages_under_the_limit(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    assert harness.runtime is not None
    now = harness.clock.now()
    async with harness.runtime.database.transaction() as session:
        await session.execute(
            insert(IncidentRow),
            [
                {
                    "unit_id": "water",
                    "level": ["I", "II", "III", "IV"][n % 4],
                    "sensitive": False,
                    "summary": f"Seeded incident number {n} with a reasonably long summary line",
                    "description": "",
                    "reported_at": now,
                    "reporter_id": "xu.tao",
                    "attachments": [],
                    "drill": False,
                    "state": "reported",
                    "version": 1,
                }
                for n in range(200)
            ],
        )
    gao = harness.user(GAO, "Gao")
    await gao.send("/status")
    page = await gao.next_message()
    pages = [page]
    while page.buttons():
        await gao.press(page, "Next page")
        page = await gao.next_message()
        pages.append(page)
    assert len(pages) >= 3
    assert all(len(p.text) < 4096 for p in pages)
    assert pages[0].text.startswith("Open incidents: 200")
    assert pages[1].text.startswith("Open incidents, page 2")
    listed = [line for p in pages for line in p.text.splitlines() if " #" in line]
    assert len(listed) == 200


async def test_bulletin_numbers_match_a_hand_computed_fixture(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    """The chat bulletin and its XLSX export for the duty day 26 November (the fixture and its
    arithmetic: tests/harness.py ``seed_bulletin_fixture``, tests/test_bulletin.py)."""
    assert harness.runtime is not None
    async with harness.runtime.database.transaction() as session:
        await seed_bulletin_fixture(session)
    zhou = harness.user(ZHOU, "Zhou")
    await zhou.send("/bulletin day 2026-11-26")
    text = (await zhou.next_message()).text
    assert text.startswith("📊 Duty bulletin (duty day) 2026-11-26 08:00 – 2026-11-27 08:00")
    water = text.split("Water Authority\n")[1].splitlines()
    assert water[0] == (
        "Incidents: received 2 · minutes to accept, median 15 · minutes to accept, worst 20 · "
        "incidents closed 0 · open at the end 2"
    )
    assert water[1] == (
        "Reports: flash on time 0 · flash late 0 · flash missing 0 · initial on time 0 · "
        "initial late 1 · initial missing 1 · follow-ups on time 0 · follow-ups late 0 · "
        "follow-ups missing 1"
    )
    emergency = text.split("Emergency Bureau\n")[1].splitlines()
    assert emergency[0].startswith("Incidents: received 2 · minutes to accept, median 18 ·")
    chart = await zhou.next_message()
    assert chart.method == "sendPhoto" and chart.payload["photo_bytes"].startswith(PNG)
    await zhou.send("/export bulletin day 2026-11-26")
    document = await zhou.next_message()
    assert document.method == "sendDocument"
    assert document.payload["document_name"] == "bulletin-day-2026-11-26.xlsx"
    book = load_workbook(BytesIO(document.payload["document_bytes"]))
    incidents = list(book["Incidents"].iter_rows(min_row=3, values_only=True))
    reports = list(book["Reports"].iter_rows(min_row=3, values_only=True))
    assert ("Water Authority", 2, 15, 20, 0, 2) in incidents
    assert ("Emergency Bureau", 2, 17.5, 30, 1, 1) in incidents
    assert ("Water Authority", 0, 0, 0, 0, 1, 1, 0, 0, 1) in reports  # flash, initial, follow-ups
    gao = harness.user(GAO, "Gao")  # the water authority's supervisor: #3 is the bureau's now
    await gao.send("/export incident 3")
    assert (await gao.next_message()).text == said(
        "en", "#{number} is outside what you may see.", number=3
    )


async def test_daily_bulletin_is_posted_once_at_its_time_across_a_restart(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(GAO, ZHOU, QIAN, SUN)
    gao, zhou, qian, sun = (
        harness.user(GAO),
        harness.user(ZHOU),
        harness.user(QIAN),
        harness.user(SUN),
    )

    def bulletins(user: object) -> int:
        return sum("Duty bulletin" in m.text for m in user.inbox())  # type: ignore[attr-defined]

    await harness.advance(timedelta(hours=17, minutes=59))  # 27 Nov 14:00 → 28 Nov 07:59
    await harness.quiet()
    assert bulletins(gao) == 0
    await harness.restart()
    await harness.advance(timedelta(minutes=1))  # 08:00
    await botapi.wait_until(lambda: bulletins(gao) == 1 and bulletins(zhou) == 1)
    await botapi.wait_until(lambda: any(m.method == "sendPhoto" for m in gao.inbox()))
    # each unit's leader on duty gets that unit's own figures
    await botapi.wait_until(lambda: bulletins(qian) == 1 and bulletins(sun) == 1)
    water = next(m.text for m in qian.inbox() if "Duty bulletin" in m.text)
    assert "Water Authority" in water and "Emergency Bureau" not in water
    await harness.restart()
    await harness.advance(timedelta(hours=1))
    await harness.quiet()
    assert bulletins(gao) == 1 and bulletins(zhou) == 1
    assert harness.runtime is not None
    async with harness.runtime.database.sessions() as session:
        dues = list(
            await session.scalars(
                select(Deadline.due_at).where(
                    Deadline.kind == "bulletin", Deadline.state == "pending"
                )
            )
        )
    assert dues == [datetime(2026, 11, 29, 0, 0, tzinfo=UTC)]  # 29 Nov 08:00 local


async def test_bulletin_charts_are_drawn_after_the_texts_committed_and_holding_no_transaction(
    harness: BotHarness, botapi: StandInBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drawing a chart takes a while: it happens in a worker thread, after the daily firing
    committed its texts, while the task that asked holds no database connection — for the
    daily bulletin and for /bulletin."""
    assert harness.runtime is not None
    harness.open_chats(GAO, ZHOU, QIAN, SUN)
    database = harness.runtime.database
    holders = ConnectionHolders(database)
    drawn: list[tuple[bool, int]] = []
    thread = asyncio.to_thread

    async def committed_texts() -> int:
        async with database.sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.text.like("%Duty bulletin%"))
            )
        return int(count or 0)

    async def watched(work: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        if work is messaging.bulletin_chart:
            held = holders.held_by(asyncio.current_task())  # before reading, which opens one
            drawn.append((held, await committed_texts()))
        return await thread(work, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", watched)
    await harness.advance(timedelta(hours=18))  # 28 Nov 08:00: the daily bulletin
    gao, zhou = harness.user(GAO), harness.user(ZHOU)
    await botapi.wait_until(
        lambda: all(any(m.method == "sendPhoto" for m in u.inbox()) for u in (gao, zhou))
    )
    texts = await committed_texts()
    assert texts >= 4 and drawn  # Gao, Zhou, and the two units' leaders on duty
    assert drawn == [(False, texts)] * len(drawn)  # every text was committed before any chart
    drawn.clear()
    catch_up(zhou)
    await zhou.send("/bulletin")
    assert "Duty bulletin" in (await zhou.next_message()).text
    assert (await zhou.next_message()).method == "sendPhoto"
    assert [held for held, _ in drawn] == [False]


async def test_a_restart_before_the_chart_is_drawn_still_posts_it_once(
    harness: BotHarness, botapi: StandInBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The firing commits the texts and books the charts; the process dies before drawing
    them (here: drawing fails until the restart). After the restart every reader gets the
    chart, once — and no second bulletin."""
    harness.open_chats(GAO, ZHOU, QIAN, SUN)
    chart, dead = messaging.bulletin_chart, [True]

    def dying(*args: Any) -> bytes:
        if dead[0]:
            raise RuntimeError("the process died while drawing")
        return chart(*args)

    monkeypatch.setattr(messaging, "bulletin_chart", dying)
    users = [harness.user(u) for u in (GAO, ZHOU, QIAN, SUN)]

    def sent(user: Any, method: str = "sendPhoto") -> int:
        return sum(
            m.method == method and (method != "sendMessage" or "Duty bulletin" in m.text)
            for m in user.inbox()
        )

    await harness.advance(timedelta(hours=18))  # 08:00
    await botapi.wait_until(lambda: all(sent(u, "sendMessage") == 1 for u in users))
    await harness.quiet()
    assert [sent(u) for u in users] == [0, 0, 0, 0]
    dead[0] = False
    await harness.restart()
    await botapi.wait_until(lambda: all(sent(u) == 1 for u in users))
    await harness.restart()
    await harness.advance(timedelta(hours=1))
    await harness.quiet()
    assert [(sent(u, "sendMessage"), sent(u)) for u in users] == [(1, 1)] * 4


QIAN_COVERS_EMERGENCY = """
# The water leader also covers the emergency bureau's leader desk today.
[[shifts]]
unit = "emergency"
position = "leader"
person = "qian.bo"
start = "2026-11-27T08:00"
end = "2026-11-28T08:00"
"""


async def test_a_leader_covering_another_desk_sees_the_same_units_everywhere(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    """/status, /overdue, /incident and /oncall agree on a leader's scope: their own unit and
    the desk they cover today, and nothing else."""
    roster = harness.config_path.parent / "roster.toml"
    roster.write_text(roster.read_text() + QIAN_COVERS_EMERGENCY)
    zhou = harness.user(ZHOU, "Zhou")
    await zhou.send("/roster reload")
    assert (await zhou.next_message()).text.startswith(
        says("en", "Roster reloaded: {units} units, {people} people.")
    )
    harness.open_chats(*EVERYONE)
    xu, ma, chen = harness.user(XU, "Xu"), harness.user(MA, "Ma"), harness.user(CHEN, "Chen")
    assert await quick_report(harness, xu, "Burst pipe at the depot") == 1  # water
    assert await quick_report(harness, ma, "Gas smell in the market") == 2  # emergency
    assert await quick_report(harness, chen, "Power cut at city hall") == 3  # city
    await harness.advance(timedelta(minutes=20))  # every acceptance missed: all three late
    while await harness.advance(timedelta(0)):  # and every escalation rung that follows
        pass

    qian = harness.user(QIAN, "Qian")

    async def ask(command: str) -> str:
        await harness.quiet()
        catch_up(qian)
        await qian.send(command)
        return (await qian.next_message()).text

    status = await ask("/status")
    assert status.startswith(says("en", "Open incidents: {total}") + "2 ")
    assert " #1 " in status and " #2 " in status and " #3 " not in status
    overdue = (await ask("/overdue")).splitlines()
    assert overdue[0] == says("en", "Overdue: {count}") + "2"
    assert sorted(line.split()[0] for line in overdue[1:]) == ["#1", "#2"]
    assert (await ask("/incident 2")).startswith("🚨")
    assert await ask("/incident 3") == said(
        "en", "#{number} is outside what you may see.", number=3
    )
    oncall = await ask("/oncall")
    assert "Water Authority (water)" in oncall and "Emergency Bureau (emergency)" in oncall
    assert "City Duty Office (city)" not in oncall
    assert "Emergency Bureau (emergency)" in await ask("/oncall emergency")
    assert "Water Authority (water)" in await ask("/oncall water")
    assert await ask("/oncall city") == said(
        "en", "The unit {id} is outside what you may see.", id="city"
    )
