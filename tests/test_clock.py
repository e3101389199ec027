"""The reporting clock on a fake clock: deadlines, warnings, late marks, the escalation ladder,
Take over, official reports with sign-off, level changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db.models import Deadline, Event, IncidentRow, OfficialReport
from bot.settings import load_settings
from tests.botapi import StandInBotApi
from tests.harness import (
    CHEN,
    LI,
    MECHANISM_LEVELS,
    QIAN,
    SUN,
    WANG,
    WU,
    XU,
    BotHarness,
    accepted_report,
    alert_for,
    catch_up,
    escalations,
    eventually,
    file_report,
    official_report_card,
    quick_report,
    says,
    write_config,
)

EVERYONE = (WANG, LI, QIAN, CHEN, SUN)


@pytest.fixture
def config_path(tmp_path: Path, botapi: StandInBotApi, database_url: str) -> Path:
    """The test city on the one-stage clock these mechanism tests were written for."""
    return write_config(
        tmp_path, base_url=botapi.base_url, database_url=database_url, extra=MECHANISM_LEVELS
    )


async def test_unaccepted_report_escalates_to_leader_then_parent_then_repeats_at_root(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Sewage overflow at the school")
    qian, chen, sun = harness.user(QIAN), harness.user(CHEN), harness.user(SUN)

    await harness.advance(timedelta(minutes=9, seconds=59))
    await harness.quiet()
    assert not escalations(qian)
    await harness.advance(timedelta(seconds=1))  # the 10-minute accept limit
    await botapi.wait_until(lambda: len(escalations(qian)) == 1)
    assert "acceptance is late" in escalations(qian)[0]
    assert not escalations(chen) and not escalations(sun)

    await harness.advance(timedelta(minutes=5))  # escalation.step: the parent unit (the root)
    await botapi.wait_until(lambda: len(escalations(chen)) == 1 and len(escalations(sun)) == 1)
    await harness.advance(timedelta(minutes=14))
    await harness.quiet()
    assert len(escalations(chen)) == 1
    await harness.advance(timedelta(minutes=1))  # escalation.repeat at the top
    await botapi.wait_until(lambda: len(escalations(chen)) == 2)
    assert len(escalations(qian)) == 1

    card = next(m for m in qian.inbox() if m.text in escalations(qian))
    answer = await qian.answer_to(await qian.press(card, "Take over"))
    assert "taken over" in answer["text"]
    row = (await harness.rows(IncidentRow, id=number))[0]
    assert (row.state, row.assignee_id) == ("accepted", "qian.bo")
    await harness.advance(timedelta(minutes=25))  # past the next repeat, before 15:00
    await harness.quiet()
    assert len(escalations(chen)) == 2  # stopped
    [accept] = await harness.rows(Deadline, incident_id=number, kind="accept")
    assert accept.late and accept.state == "met"
    kinds = [e.kind for e in await harness.rows(Event, subject=f"incident:{number}")]
    assert kinds.count("escalation.rung") == 3 and "escalation.stopped" in kinds


async def test_missing_initial_report_is_warned_marked_late_and_escalated_until_filed(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Bridge railing damaged")
    li = harness.user(LI, "Li")
    await alert_for(li)
    await li.send(f"/accept {number}")
    await li.next_message()

    await harness.advance(timedelta(minutes=49))
    await harness.quiet()
    assert not [m for m in li.inbox() if "Reminder" in m.text]
    await harness.advance(timedelta(minutes=1))  # warn_before: 10 minutes before 15:00
    await botapi.wait_until(lambda: any("Reminder" in m.text for m in li.inbox()))
    assert any("initial report for #1 is due at 2026-11-27 15:00" in m.text for m in li.inbox())

    await harness.advance(timedelta(minutes=10))  # 15:00: late, escalation starts (officer)
    wang = harness.user(WANG, "Wang")
    await botapi.wait_until(lambda: len(escalations(wang, "zh")) == 1)
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert initial.late and initial.state == "fired"
    await harness.advance(timedelta(minutes=5))  # backup
    await botapi.wait_until(lambda: len(escalations(li)) == 1)
    await harness.advance(timedelta(minutes=2))

    li._read = len(li.inbox())
    reply = await file_report(li, f"/initial {number}", {2: "three streets", 4: "cordon set up"})
    assert "is filed" in reply
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert initial.state == "met" and initial.late
    [report] = await harness.rows(OfficialReport, incident_id=number)
    assert report.late and report.fields["scope"] == "three streets"
    row = (await harness.rows(IncidentRow, id=number))[0]
    assert row.state == "initial_reported"
    qian = harness.user(QIAN)
    await botapi.wait_until(lambda: any("Initial report" in m.text for m in qian.inbox()))
    await harness.advance(timedelta(minutes=30))
    await harness.quiet()
    assert len(escalations(qian)) == 0  # the escalation stopped before reaching the leader
    [followup] = await harness.rows(Deadline, incident_id=number, kind="followup")
    assert followup.state == "pending"


def test_followups_fall_due_at_the_interval_or_the_fixed_time_whichever_first(tmp_path) -> None:
    from bot.levels import next_followup_due
    from tests.harness import write_config

    settings = load_settings(
        write_config(
            tmp_path,
            base_url="http://x/bot",
            database_url="sqlite+aiosqlite:///x.db",
            extra=MECHANISM_LEVELS,
        )
    )

    def local(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=settings.timezone).astimezone(UTC)

    # Level III: every 12 h, and at 08:00 and 17:00.
    assert next_followup_due(settings, "III", False, local("2026-11-27T14:10")) == local(
        "2026-11-27T17:00"
    )
    assert next_followup_due(settings, "III", False, local("2026-11-27T17:05")) == local(
        "2026-11-28T05:05"
    )
    # Level I: every 2 h — the interval comes first.
    assert next_followup_due(settings, "I", False, local("2026-11-27T14:10")) == local(
        "2026-11-27T16:10"
    )
    # Level IV: no fixed times, every day.
    assert next_followup_due(settings, "IV", False, local("2026-11-27T14:10")) == local(
        "2026-11-28T14:10"
    )
    # Sensitive counts as level II whatever the level.
    assert next_followup_due(settings, "IV", True, local("2026-11-27T14:10")) == local(
        "2026-11-27T17:00"
    )


async def test_level_one_report_needs_signoff_and_reaches_the_root(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Dam seepage at the reservoir")
    wang = harness.user(WANG, "Wang", "en")
    await alert_for(wang)
    await wang.send(f"/accept {number}")
    await wang.next_message()
    await wang.send(f"/level {number} I")
    assert "Ⅰ级（特别重大）" in (await wang.next_message()).text
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert initial.due_at == datetime(2026, 11, 27, 6, 30, tzinfo=UTC)  # 30 minutes for level I

    reply = await file_report(wang, f"/initial {number}", language="zh")
    assert "Qian Bo" in reply  # waiting for the leader's sign-off
    [report] = await harness.rows(OfficialReport, incident_id=number)
    assert report.state == "awaiting_signoff"
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert initial.state == "pending"  # not met until approved

    qian, chen, sun = harness.user(QIAN), harness.user(CHEN), harness.user(SUN)
    await botapi.wait_until(lambda: any("Sign-off" in m.text for m in qian.inbox()))
    card = next(m for m in qian.inbox() if "Sign-off" in m.text)
    assert not any("首报" in m.text for m in chen.inbox())
    answer = await qian.answer_to(await qian.press(card, "Approve"))
    assert "filed" in answer["text"]
    await botapi.wait_until(
        lambda: (
            any("Initial report" in m.text for m in chen.inbox())
            and any("Initial report" in m.text for m in sun.inbox())
        )
    )
    [report] = await harness.rows(OfficialReport, incident_id=number)
    assert (report.state, report.approved_by, report.late) == ("filed", "qian.bo", False)
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert initial.state == "met" and not initial.late


async def test_a_report_sent_back_does_not_count(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Gas pipeline rupture")
    wang = harness.user(WANG, "Wang", "en")
    await alert_for(wang)
    await wang.send(f"/accept {number}")
    await wang.next_message()
    await wang.send(f"/level {number} II")
    await wang.next_message()
    await file_report(wang, f"/initial {number}", language="zh")
    qian = harness.user(QIAN)
    await botapi.wait_until(lambda: any("Sign-off" in m.text for m in qian.inbox()))
    card = next(m for m in qian.inbox() if "Sign-off" in m.text)
    qian._read = len(qian.inbox())
    await qian.press(card, "Send back")
    assert "reason" in (await qian.next_message()).text
    await harness.restart()  # the question survives a restart
    await qian.send("casualty figures are missing")
    await botapi.wait_until(
        lambda: any("casualty figures are missing" in m.text for m in wang.inbox())
    )
    [report] = await harness.rows(OfficialReport, incident_id=number)
    assert report.state == "sent_back"
    row = (await harness.rows(IncidentRow, id=number))[0]
    assert row.state == "accepted"


async def test_raising_the_level_makes_an_overdue_report_fire_at_once(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Warehouse fire, spreading")
    li = harness.user(LI, "Li")
    await alert_for(li)
    await li.send(f"/accept {number}")
    await li.next_message()
    await harness.advance(timedelta(minutes=40))  # unassessed: initial report due at 60 min
    await harness.quiet()
    wang = harness.user(WANG)
    assert not escalations(wang, "zh")
    await li.send(f"/level {number} I")  # level I: due at 30 min, so 10 minutes late already
    await botapi.wait_until(lambda: len(escalations(wang, "zh")) == 1, timeout=10)
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert initial.late and initial.due_at == datetime(2026, 11, 27, 6, 30, tzinfo=UTC)


async def test_final_report_closes_the_incident_and_cancels_what_is_due(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Power cut in district 4")
    li = harness.user(LI, "Li")
    await alert_for(li)
    await li.send(f"/accept {number}")
    await li.next_message()
    await li.send(f"/final {number}")
    assert "initial report" in (await li.next_message()).text  # first the initial report
    await file_report(li, f"/initial {number}")
    assert "is filed" in await file_report(li, f"/final {number}")
    row = (await harness.rows(IncidentRow, id=number))[0]
    assert row.state == "closed"
    pending = [d for d in await harness.rows(Deadline, incident_id=number) if d.state == "pending"]
    # Only the upper office's receipt (签收) of the final report is still expected.
    assert [d.kind for d in pending] == ["receipt"]
    await botapi.wait_until(lambda: any("is closed" in m.text for m in xu.inbox()))


async def test_marking_sensitive_makes_deadlines_level_two_and_reports_reach_the_root(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Protest gathering outside city hall")
    wang = harness.user(WANG, "Wang", "en")
    await alert_for(wang)
    await wang.send(f"/accept {number}")
    await wang.next_message()
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert initial.due_at == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # unassessed: 1 hour
    await wang.send(f"/sensitive {number}")
    assert "已标记为敏感事件" in (await wang.next_message()).text  # Wang reads Chinese
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert initial.due_at == datetime(2026, 11, 27, 6, 30, tzinfo=UTC)  # as level II: 30 min
    await xu.send(f"/sensitive {number} off")  # the reporter is not an officer of the unit
    await botapi.wait_until(lambda: any("may not act" in m.text for m in xu.inbox()))
    await wang.send(f"/drill {number} maybe")
    assert "/drill <编号>" in (await wang.next_message()).text
    row = (await harness.rows(IncidentRow, id=number))[0]
    assert row.sensitive and not row.drill


async def test_taking_over_a_missing_report_gives_a_fresh_limit_not_a_free_pass(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Landslide warning on Hill Road")
    li = harness.user(LI, "Li")
    await alert_for(li)
    await li.send(f"/accept {number}")
    await li.next_message()
    await harness.advance(timedelta(hours=1))  # 15:00: the initial report is late
    wang = harness.user(WANG)
    await botapi.wait_until(lambda: len(escalations(wang, "zh")) == 1)
    card = next(m for m in wang.inbox() if m.text in escalations(wang, "zh"))
    await wang.answer_to(await wang.press(card, data=f"1:tko:{number}"))
    row = (await harness.rows(IncidentRow, id=number))[0]
    assert row.assignee_id == "wang.fang"
    await harness.advance(timedelta(minutes=14))
    await harness.quiet()
    assert len(escalations(wang, "zh")) == 1
    await harness.advance(timedelta(minutes=1))  # escalation.repeat after the take-over
    await botapi.wait_until(lambda: len(escalations(wang, "zh")) == 2)
    wang._read = len(wang.inbox())
    await file_report(wang, f"/initial {number}", language="zh")
    initials = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert [d.state for d in initials] == ["met", "met"] and all(d.late for d in initials)


async def test_the_timeline_records_the_state_a_report_moved_the_incident_from(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Culvert blocked on Canal Road")
    li = harness.user(LI, "Li")
    await alert_for(li)
    await li.send(f"/accept {number}")
    await li.next_message()
    assert "is filed" in await file_report(li, f"/initial {number}")
    assert "is filed" in await file_report(li, f"/final {number}")
    filed = [e.data for e in await harness.timeline(number) if e.kind == "report.filed"]
    assert [(d["what"], d["old"], d["new"]) for d in filed] == [
        ("initial", "accepted", "initial_reported"),
        ("final", "initial_reported", "closed"),
    ]


async def test_a_report_form_opened_before_a_transfer_cannot_be_filed_after_it(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE, WU)
    li = harness.user(LI, "Li")
    number = await accepted_report(harness, li, "Road subsidence near the pumping station")
    card = await official_report_card(li, f"/initial {number}")

    await li.send(f"/transfer {number} emergency the road is the bureau's")
    wu = harness.user(WU, "Wu")
    await botapi.wait_until(lambda: any(m.text.startswith("🚨") for m in wu.inbox()))
    await wu.send(f"/accept {number}")

    async def accepted_by_wu() -> bool:
        row = await harness.incident(number)
        return (row.unit_id, row.state, row.assignee_id) == ("emergency", "accepted", "wu.gang")

    await eventually(accepted_by_wu)
    await harness.quiet()
    catch_up(li)

    await li.press(card, data="1:ofy:file")
    answer = await li.next_message()
    assert answer.text.startswith(says("en", "There is no incident #{number} that you may act on."))
    assert await harness.rows(OfficialReport, incident_id=number) == []
    kinds = [e.kind for e in await harness.timeline(number)]
    assert not [k for k in kinds if k.startswith("report.")]
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert initial.state == "pending"


async def test_a_leader_cannot_sign_off_a_report_they_wrote(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Chemical smell at the water plant")
    wang = harness.user(WANG, "Wang", "en")
    await alert_for(wang)
    await wang.send(f"/accept {number}")
    await wang.next_message()
    await wang.send(f"/level {number} I")
    await wang.next_message()
    qian = harness.user(QIAN, "Qian")
    await harness.quiet()
    catch_up(qian)

    reply = await file_report(qian, f"/initial {number}")  # the leader writes it himself
    assert "Sun Li" in reply  # so the nearest leader above signs it
    [report] = await harness.rows(OfficialReport, incident_id=number)
    assert (report.state, report.author_id) == ("awaiting_signoff", "qian.bo")
    sun = harness.user(SUN, "Sun")
    await botapi.wait_until(lambda: any("Sign-off" in m.text for m in sun.inbox()))
    assert not any("Sign-off" in m.text for m in qian.inbox())

    for action in ("apr", "sbk"):  # a forged Approve, or Send back, on his own report
        query = await qian.press(botapi.messages_to(QIAN)[-1], data=f"1:{action}:{report.id}")
        toast = (await qian.answer_to(query))["text"]
        assert toast == says("en", "You wrote this report: another leader must sign it off.")
    await harness.quiet()
    [report] = await harness.rows(OfficialReport, incident_id=number)
    assert report.state == "awaiting_signoff"
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert initial.state == "pending"

    card = next(m for m in sun.inbox() if "Sign-off" in m.text)
    answer = await sun.answer_to(await sun.press(card, "Approve"))
    assert "filed" in answer["text"]
    [report] = await harness.rows(OfficialReport, incident_id=number)
    assert (report.state, report.approved_by) == ("filed", "sun.li")


def test_lateness_reads_as_minutes_and_hours_not_an_internal_value() -> None:
    from bot.escalation.messaging import lateness
    from bot.i18n import translator

    english = translator("en")
    assert lateness(timedelta(minutes=15, seconds=59), english) == "15 min"
    assert lateness(timedelta(hours=1, minutes=5), english) == "1 h 05 min"
    assert lateness(timedelta(seconds=-30), english) == "0 min"


async def test_filing_a_report_does_not_wait_for_the_buttons_answer(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    """Pressing File goes straight to the work: the report is on its way up while Telegram is
    still answering the press (its answer only stops the button's spinner)."""
    harness.open_chats(*EVERYONE)
    li = harness.user(LI, "Li")
    number = await accepted_report(harness, li, "Pipe burst at the station")
    assert "is filed" in await file_report(li, f"/initial {number}")
    await harness.quiet()
    catch_up(li)
    card = await official_report_card(li, f"/followup {number}", {4: "pumps running"})
    await harness.quiet()
    before = len(botapi.sent)
    botapi.answer_delay = 5.0
    query = await li.press(card, data="1:ofy:file")
    await botapi.wait_until(lambda: any(s.chat_id != LI for s in botapi.sent[before:]), 4)
    assert query not in botapi.callback_answers  # the copies went before the answer did
    botapi.answer_delay = 0.0
    await li.answer_to(query)
