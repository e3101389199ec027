"""The reporting rules of a real duty office (issue 10) lived through the stand-in Bot API on a
fake clock: the two-stage first report, follow-up timing, first responsibility across
transfers, Chinese that never shows an internal value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.db.models import Deadline, Event, OfficialReport
from tests.botapi import StandInBotApi, User
from tests.harness import (
    CHEN,
    LI,
    QIAN,
    SUN,
    WANG,
    WU,
    XU,
    ZHENG,
    ZHOU,
    BotHarness,
    alert_for,
    catch_up,
    escalations,
    file_report,
    internal_values,
    quick_report,
    said,
    says,
)

EVERYONE = (WANG, LI, QIAN, CHEN, SUN, WU, ZHENG)
SIGNOFF = "Sign-off needed"


async def accepted_by_li(harness: BotHarness, what: str) -> tuple[int, User]:
    """Xu reports ``what``; Li Lei, the water officer on duty, accepts it. Every chat is open."""
    harness.open_chats(*EVERYONE)
    number = await quick_report(harness, harness.user(XU, "Xu"), what)
    li = harness.user(LI, "Li")
    await alert_for(li)
    await li.send(f"/accept {number}")
    await li.next_message()
    return number, li


async def level_one_accepted_by(harness: BotHarness, language: str) -> tuple[int, object]:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Dam breach at the reservoir")
    officer = harness.user(WANG if language == "zh" else LI, "Officer", language)
    await alert_for(officer)
    await officer.send(f"/accept {number}")
    await officer.next_message()
    await officer.send(f"/level {number} I")
    await officer.next_message()
    return number, officer


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_level_one_flash_at_25_minutes_and_written_at_55_is_on_time(
    harness: BotHarness, botapi: StandInBotApi, language: str
) -> None:
    number, officer = await level_one_accepted_by(harness, language)
    await harness.advance(timedelta(minutes=25))
    await harness.quiet()
    catch_up(officer)
    await officer.send(f"/flash {number} dam breached, 200 people evacuated")
    answer = (await officer.next_message()).text
    assert answer == said(language, "Flash report on #{number} sent upward.", number=number)
    chen = harness.user(CHEN)
    await botapi.wait_until(lambda: any(m.text.startswith("⚡") for m in chen.inbox()))

    await harness.advance(timedelta(minutes=30))  # 55 minutes after the report
    await harness.quiet()
    catch_up(officer)
    reply = await file_report(officer, f"/initial {number}", language=language)
    assert "Qian Bo" in reply  # level I waits for the leader's sign-off
    qian = harness.user(QIAN)
    start = "✍️ " + says("en", SIGNOFF)
    await botapi.wait_until(lambda: any(m.text.startswith(start) for m in qian.inbox()))
    card = next(m for m in qian.inbox() if m.text.startswith(start))
    await qian.answer_to(await qian.press(card, "Approve"))
    await harness.advance(timedelta(minutes=10))
    await harness.quiet()
    [flash] = await harness.rows(Deadline, incident_id=number, kind="flash_report")
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert (flash.state, flash.late) == ("met", False)
    assert (initial.state, initial.late) == ("met", False)
    assert not escalations(officer, language)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_level_one_without_flash_escalates_at_30_minutes(
    harness: BotHarness, botapi: StandInBotApi, language: str
) -> None:
    number, _officer = await level_one_accepted_by(harness, language)
    await harness.advance(timedelta(minutes=29, seconds=59))
    await harness.quiet()
    assert not escalations(harness.user(WANG), "zh")
    await harness.advance(timedelta(seconds=1))
    wang = harness.user(WANG)  # the officer on duty: the chain's first rung
    await botapi.wait_until(lambda: len(escalations(wang, "zh")) == 1)
    [flash] = await harness.rows(Deadline, incident_id=number, kind="flash_report")
    assert flash.late and flash.state == "fired"


async def test_flash_reported_by_phone_meets_the_deadline(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    number, officer = await level_one_accepted_by(harness, "en")
    await harness.advance(timedelta(minutes=25))  # recorded at 14:25; it was phoned at 14:20
    await harness.quiet()
    catch_up(officer)
    await officer.send(f"/flash {number} phone Sun Li at the city office 14:20")
    assert (await officer.next_message()).text == said(
        "en", "Recorded: #{number} was reported by phone.", number=number
    )
    [flash] = await harness.rows(Deadline, incident_id=number, kind="flash_report")
    assert (flash.state, flash.late) == ("met", False)
    assert flash.met_at == datetime(2026, 11, 27, 6, 20, tzinfo=UTC)
    [report] = await harness.rows(OfficialReport, incident_id=number, kind="flash")
    assert report.fields["phoned_to"] == "Sun Li at the city office"


async def test_transfer_of_an_unaccepted_report_keeps_the_transferring_officer_responsible(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE)
    number = await quick_report(harness, harness.user(XU, "Xu"), "Chemical smell by the river")
    li = harness.user(LI, "Li")
    await alert_for(li)
    await li.send(f"/transfer {number} emergency chemicals are theirs")
    await li.next_message()
    row = await harness.incident(number)
    assert (row.state, row.unit_id, row.assignee_id) == ("reported", "emergency", "li.lei")
    # Pending report deadlines move to the new unit; the old unit's acceptance clock stopped.
    [flash] = await harness.rows(Deadline, incident_id=number, kind="flash_report")
    assert (flash.state, flash.data["unit"]) == ("pending", "emergency")
    old, new = await harness.rows(Deadline, incident_id=number, kind="accept")
    assert (old.data["unit"], old.state) == ("water", "met")
    assert (new.data["unit"], new.state) == ("emergency", "pending")
    wu = harness.user(WU, "Wu")
    await alert_for(wu)
    await wu.send(f"/accept {number}")
    await wu.next_message()
    row = await harness.incident(number)
    assert (row.state, row.assignee_id) == ("accepted", "wu.gang")


async def test_a_transferred_incident_with_its_first_report_can_file_a_followup_at_once(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    number, li = await accepted_by_li(harness, "Pipe burst under the road")
    await file_report(li, f"/initial {number}")  # unassessed: no sign-off
    await li.send(f"/transfer {number} emergency road collapse")
    await li.next_message()
    wu = harness.user(WU, "Wu")
    await alert_for(wu)
    await wu.send(f"/accept {number}")
    await wu.next_message()
    row = await harness.incident(number)
    assert row.state == "initial_reported"
    reply = await file_report(wu, f"/followup {number}")
    assert "is filed" in reply
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert initial.state == "met"


async def test_casualties_rising_through_addinfo_make_a_followup_due(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Building collapse on Elm Street")
    li = harness.user(LI, "Li")
    await alert_for(li)
    await li.send(f"/accept {number}")
    await li.next_message()
    await file_report(li, f"/initial {number}")
    [followup] = await harness.rows(Deadline, incident_id=number, kind="followup")
    assert followup.due_at > harness.clock.now() + timedelta(hours=2)
    await xu.send(f"/addinfo {number} dead 2, injured 5")
    await xu.next_message()
    await harness.quiet()
    row = await harness.incident(number)
    assert (row.dead, row.injured) == (2, 5)
    [followup] = await harness.rows(Deadline, incident_id=number, kind="followup")
    assert followup.due_at == harness.clock.now() + timedelta(hours=1)
    assert "[+ 2026-11-27 14:" in row.description  # local time, not UTC


async def test_a_full_scenario_in_chinese_shows_no_internal_value(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE, ZHOU)
    chinese = [WANG, XU, QIAN, CHEN, SUN, LI, ZHOU]
    users = {uid: harness.user(uid, "User", "zh") for uid in chinese}
    for uid in chinese:
        if uid != WANG:
            await users[uid].send("/lang zh")
            await users[uid].next_message()
    wang, xu, qian, chen, li, zhou = (users[u] for u in (WANG, XU, QIAN, CHEN, LI, ZHOU))

    async def say(user: Any, command: str) -> None:
        await harness.quiet()
        catch_up(user)
        await user.send(command)
        await user.next_message()

    number = await quick_report(harness, xu, "水库大坝渗水", language="zh")
    await alert_for(wang)
    await harness.advance(timedelta(minutes=6))  # acceptance late: the chain starts
    await say(wang, "/help")
    await say(wang, f"/accept {number}")
    await say(wang, f"/level {number} I")
    await say(wang, f"/flash {number} 大坝渗水，已疏散群众")
    await say(xu, f"/addinfo {number} 受伤 3")
    await say(zhou, "/follow water")
    await harness.advance(timedelta(minutes=30))
    await harness.quiet()
    catch_up(wang)
    await file_report(wang, f"/initial {number}", language="zh")
    start = "✍️ "
    await botapi.wait_until(lambda: any(m.text.startswith(start) for m in qian.inbox()))
    card = next(m for m in qian.inbox() if m.text.startswith(start))
    await qian.answer_to(
        await qian.press(card, data=card.reply_markup["inline_keyboard"][0][0]["callback_data"])
    )
    await botapi.wait_until(lambda: any(m.text.startswith("📄") for m in chen.inbox()))
    report = next(m for m in chen.inbox() if m.text.startswith("📄"))
    await chen.answer_to(
        await chen.press(report, data=report.reply_markup["inline_keyboard"][0][0]["callback_data"])
    )
    await harness.quiet()
    catch_up(li)
    await log_a_call(li, "13:50", ("张三", "河口村委会", "河堤三公里处", "河堤渗水，水位上涨"))
    await say(li, "/dismiss 2 误报")
    # the request goes to Qian alongside Li's answer: not necessarily before it
    await botapi.wait_until(lambda: any(m.text.startswith("🛂") for m in qian.inbox()))
    request = next(m for m in qian.inbox() if m.text.startswith("🛂"))
    await qian.answer_to(
        await qian.press(
            request, data=request.reply_markup["inline_keyboard"][0][1]["callback_data"]
        )
    )
    await harness.advance(timedelta(hours=1))
    await harness.quiet()
    escalated = [m for m in wang.inbox() if m.text.startswith("🔺")]
    assert escalated
    last = escalated[-1]
    await wang.answer_to(
        await wang.press(last, data=last.reply_markup["inline_keyboard"][0][0]["callback_data"])
    )
    await say(zhou, f"/incident {number}")
    await say(zhou, "/status")
    await say(wang, f"/transfer {number} emergency 转应急局")
    await say(wang, "/mine")
    await harness.advance(timedelta(hours=2))
    await harness.quiet()
    texts = [m.text for uid in chinese for m in users[uid].inbox()]
    texts += [str(a.get("text", "")) for a in botapi.callback_answers.values()]
    assert len(texts) > 40
    assert not internal_values(texts)
    kinds = {e.kind for e in await harness.rows(Event)}
    wanted = {"report.flash", "report.received", "escalation.pressed", "incident.change_refused"}
    assert wanted <= kinds


APPROVAL = "Approval needed: {name} asks to {what} for #{number}."


@pytest.mark.parametrize("command", ["/dismiss {n} a false alarm", "/level {n} IV", "/drill {n}"])
async def test_an_officers_dismiss_level_down_or_drill_waits_for_the_leader(
    harness: BotHarness, botapi: StandInBotApi, command: str
) -> None:
    number, li = await accepted_by_li(harness, "Smoke over the depot")
    before = await harness.incident(number)
    await li.send(command.format(n=number))
    assert (await li.next_message()).text == said(
        "en",
        "#{number}: sent to the leader on duty for approval; nothing changes until it is approved.",
        number=number,
    )
    after = await harness.incident(number)
    assert (after.state, after.level, after.drill) == (before.state, before.level, before.drill)
    qian = harness.user(QIAN)
    start = "🛂 " + says("en", APPROVAL)
    await botapi.wait_until(lambda: any(m.text.startswith(start) for m in qian.inbox()))
    card = next(m for m in qian.inbox() if m.text.startswith(start))
    await qian.answer_to(await qian.press(card, "Approve"))
    await harness.quiet()
    after = await harness.incident(number)
    assert (after.state, after.level, after.drill) != (before.state, before.level, before.drill)
    kinds = [e.kind for e in await harness.rows(Event, subject=f"incident:{number}")]
    assert "incident.change_requested" in kinds and "incident.change_approved" in kinds


async def test_a_leader_dismisses_directly(harness: BotHarness, botapi: StandInBotApi) -> None:
    harness.open_chats(*EVERYONE)
    number = await quick_report(harness, harness.user(XU, "Xu"), "Balloon stuck on a wire")
    qian = harness.user(QIAN, "Qian")
    await qian.send(f"/dismiss {number} not an incident")
    await botapi.wait_until(
        lambda: any(
            m.text == said("en", "#{number} is dismissed.", number=number) for m in qian.inbox()
        )
    )
    assert (await harness.incident(number)).state == "dismissed"


async def test_press_writes_the_timeline_and_keeps_the_assignee(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    number, li = await accepted_by_li(harness, "Landslide blocks the road")
    await harness.advance(timedelta(minutes=30))  # no flash report: the chain starts
    wang = harness.user(WANG, "Wang", "zh")
    await botapi.wait_until(lambda: len(escalations(wang, "zh")) == 1)
    card = next(m for m in wang.inbox() if m.text in escalations(wang, "zh"))
    assert "催办" in str(card.reply_markup)
    await harness.quiet()
    catch_up(li)
    answer = await wang.answer_to(await wang.press(card, data=f"1:prs:{number}"))
    assert answer["text"] == said(
        "zh", "Pressed: {count} responsible people told; it stays theirs.", count=1
    )
    pressed = await li.next_message()
    assert pressed.text == "‼️ " + said(
        "en",
        "{name} presses you (催办) on #{number}: {what} was due {due}. File it now.",
        name="Wang Fang",
        number=number,
        what="the flash report",
        due="2026-11-27 14:30",
    )
    row = await harness.incident(number)
    assert row.assignee_id == "li.lei"
    [event] = await harness.rows(Event, subject=f"incident:{number}", kind="escalation.pressed")
    assert event.actor_id == "wang.fang"


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_raising_to_level_one_re_reports_to_the_root(
    harness: BotHarness, botapi: StandInBotApi, language: str
) -> None:
    harness.open_chats(*EVERYONE)
    number = await quick_report(harness, harness.user(XU, "Xu"), "Chemical plant fire")
    officer = harness.user(WANG if language == "zh" else LI, "Officer", language)
    await alert_for(officer)
    await officer.send(f"/accept {number}")
    await officer.next_message()
    await file_report(officer, f"/initial {number}", language=language)  # no sign-off yet
    sun = harness.user(SUN)
    await harness.quiet()
    catch_up(sun)
    await officer.send(f"/level {number} I")
    await officer.next_message()
    banner = "⬆️ " + says("en", "Level raised (报告升级): #{number} is now {new}, was {old}.")
    await botapi.wait_until(lambda: any(m.text.startswith(banner) for m in sun.inbox()))
    [event] = await harness.rows(Event, subject=f"incident:{number}", kind="report.rereported")
    assert "sun.li" in event.data["to"] and "chen.jing" in event.data["to"]


INFORMATION = (
    "For your information as leader on duty: the duty officers have the alert and accept it."
)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_leader_on_duty_gets_a_major_report_at_once_for_information(
    harness: BotHarness, botapi: StandInBotApi, language: str
) -> None:
    harness.open_chats(*EVERYONE)
    qian = harness.user(QIAN, "Qian", language)
    await qian.send(f"/lang {language}")
    await qian.next_message()
    number = await quick_report(harness, harness.user(XU, "Xu"), "Explosion at the plant")
    alert = await alert_for(qian)
    assert alert.text.endswith("ℹ️ " + said(language, INFORMATION))
    assert alert.reply_markup is None  # no Accept: for information
    [event] = await harness.rows(Event, subject=f"incident:{number}", kind="incident.alerted")
    assert event.data["leaders"] == ["qian.bo"]


async def log_a_call(
    officer: object,
    received: str,
    texts: tuple[str, str, str, str] = (
        "Zhang San",
        "Riverside village committee",
        "Riverside dyke, km 3",
        "Dyke seeping, water rising",
    ),
) -> str:
    """Walk ``/call`` for a caller outside the roster; return the bot's last answer."""
    user: Any = officer
    name, organisation, place, what = texts
    await user.send("/call")
    await user.next_message()  # the caller's name?
    await user.send(name)
    org = await user.next_message()
    await user.send(organisation)
    phone = await user.next_message()
    await user.press(phone, data="1:cf:skip")
    await user.next_message()  # when did the call come in?
    await user.send(received)
    occurred = await user.next_message()
    await user.press(occurred, data="1:cf:hour")
    category = await user.next_message()
    await user.press(category, data="1:rc:natural")
    level = await user.next_message()
    await user.press(level, data="1:rl:II")
    await user.next_message()  # where?
    await user.send(place)
    await user.next_message()  # what happened?
    await user.send(what)
    casualties = await user.next_message()
    await user.press(casualties, data="1:cf:skip")
    preview = await user.next_message()
    assert name in preview.text and org.text
    await user.press(preview, data="1:cf:send")
    return str((await user.next_message()).text)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_phone_call_is_accepted_by_the_officer_and_its_clock_starts_at_the_call(
    harness: BotHarness, botapi: StandInBotApi, language: str
) -> None:
    harness.open_chats(*EVERYONE)
    officer = harness.user(WANG if language == "zh" else LI, "Officer", language)
    answer = await log_a_call(officer, "13:50")  # ten minutes back
    received = datetime(2026, 11, 27, 5, 50, tzinfo=UTC)
    assert answer.startswith(
        said(
            language,
            "Logged as #{number} (phone call received {received}); it is accepted by you.",
            number=1,
            received="2026-11-27 13:50",
        )
    )
    row = await harness.incident(1)
    assignee = "wang.fang" if language == "zh" else "li.lei"
    assert (row.state, row.assignee_id, row.source) == ("accepted", assignee, "phone")
    assert (row.caller_name, row.caller_org, row.caller_phone) == (
        "Zhang San",
        "Riverside village committee",
        None,
    )
    assert row.reported_at == received and row.occurred_at == received - timedelta(hours=1)
    [flash] = await harness.rows(Deadline, incident_id=1, kind="flash_report")
    [initial] = await harness.rows(Deadline, incident_id=1, kind="initial_report")
    assert flash.due_at == received + timedelta(minutes=30)
    assert initial.due_at == received + timedelta(hours=1)
    [accept] = await harness.rows(Deadline, incident_id=1, kind="accept")
    assert (accept.state, accept.late) == ("met", False)
    qian = harness.user(QIAN)
    await botapi.wait_until(lambda: any("Zhang San" in m.text for m in qian.inbox()))


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_report_form_asks_when_it_happened_and_whether_it_is_sensitive(
    harness: BotHarness, botapi: StandInBotApi, language: str
) -> None:
    harness.open_chats(*EVERYONE)
    xu = harness.user(XU, "Xu", language)
    await xu.send(f"/lang {language}")
    await xu.next_message()
    await xu.send("/report")
    await xu.press(await xu.next_message(), data="1:rc:health")
    await xu.press(await xu.next_message(), data="1:rl:IV")
    await xu.next_message()  # where?
    await xu.send("No. 3 Middle School")
    await xu.next_message()  # what happened?
    await xu.send("Pupils sick after lunch")
    when = await xu.next_message()
    assert when.text == said(
        language,
        "When did it happen? Press a button, or type the time (HH:MM or YYYY-MM-DD HH:MM).",
    )
    await xu.send("13:20")
    sensitive = await xu.next_message()
    await xu.press(sensitive, data="1:rs:yes")
    await xu.press(await xu.next_message(), data="1:rk")  # no casualties given
    await xu.press(await xu.next_message(), data="1:rp")  # no photos
    await xu.press(await xu.next_message(), data="1:ry:send")
    await xu.next_message()
    row = await harness.incident(1)
    assert row.sensitive and row.occurred_at == datetime(2026, 11, 27, 5, 20, tzinfo=UTC)
    # Sensitive: the level-II clock, whatever the level (a flash report is due).
    [flash] = await harness.rows(Deadline, incident_id=1, kind="flash_report")
    assert flash.due_at == row.reported_at + timedelta(minutes=30)


RECEIVED = "Received (签收): recorded on the timeline."
REMINDER = "Please acknowledge (签收) the {title} of #{number}."


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_an_upward_report_carries_its_content_and_received_with_one_reminder(
    harness: BotHarness, botapi: StandInBotApi, language: str
) -> None:
    harness.open_chats(*EVERYONE)
    number = await quick_report(harness, harness.user(XU, "Xu"), "Chemical spill at the port")
    officer = harness.user(WANG if language == "zh" else LI, "Officer", language)
    await alert_for(officer)
    await officer.send(f"/accept {number}")
    await officer.next_message()
    # Fields 8-10: cause, direct economic loss, on-scene commander.
    await file_report(
        officer,
        f"/initial {number}",
        {8: "valve failure", 9: "about 2 million yuan", 10: "Deputy Chief Zhao, 13800000000"},
        language=language,
    )
    chen = harness.user(CHEN)  # the root office's officer (English)
    await botapi.wait_until(lambda: any(m.text.startswith("📄") for m in chen.inbox()))
    report = next(m for m in chen.inbox() if m.text.startswith("📄"))
    for value in ("valve failure", "about 2 million yuan", "Deputy Chief Zhao, 13800000000"):
        assert value in report.text
    author = "Wang Fang" if language == "zh" else "Li Lei"
    assert (
        said(
            "en",
            "Reporting unit: {unit} · Drafter: {drafter} · Signer: {signer}",
            unit="Water Authority",
            drafter=author,
            signer=author,
        )
        in report.text
    )
    assert "2026-11-27 14:00" in report.text.split("\n\n", 1)[1].split("\n")[0]  # time and place

    sun = harness.user(SUN)
    await botapi.wait_until(lambda: any(m.text.startswith("📄") for m in sun.inbox()))
    answer = await chen.answer_to(
        await chen.press(report, data=report.reply_markup["inline_keyboard"][0][0]["callback_data"])
    )
    assert answer["text"] == said("en", RECEIVED)
    [event] = await harness.rows(Event, subject=f"incident:{number}", kind="report.received")
    assert event.actor_id == "chen.jing"
    await harness.advance(timedelta(minutes=15))  # receipt_within: the reminder is not needed
    await harness.quiet()
    reminder = "⏰ " + says("en", REMINDER)
    assert not [m for m in sun.inbox() if m.text.startswith(reminder)]


async def test_an_upward_report_not_received_gets_one_reminder(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    number, li = await accepted_by_li(harness, "Water main burst")
    await file_report(li, f"/initial {number}")
    sun = harness.user(SUN)
    reminder = "⏰ " + says("en", REMINDER)
    await harness.advance(timedelta(minutes=14))
    await harness.quiet()
    assert not [m for m in sun.inbox() if m.text.startswith(reminder)]
    await harness.advance(timedelta(minutes=1))
    await botapi.wait_until(lambda: any(m.text.startswith(reminder) for m in sun.inbox()))
    await harness.advance(timedelta(minutes=30))
    await harness.quiet()
    assert len([m for m in sun.inbox() if m.text.startswith(reminder)]) == 1


async def test_a_supervisor_follows_a_unit_and_receives_its_reports(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*EVERYONE, ZHOU_ID := 1003)
    zhou = harness.user(ZHOU_ID, "Zhou")
    await zhou.send("/follow emergency")
    assert (await zhou.next_message()).text == said(
        "en", "You now receive the reports of {unit}.", unit="Emergency Bureau"
    )
    number = await quick_report(harness, harness.user(2010, "Ma"), "Gas leak at the depot")
    wu = harness.user(WU, "Wu")
    await alert_for(wu)
    await wu.send(f"/accept {number}")
    await wu.next_message()
    await file_report(wu, f"/initial {number}")
    await botapi.wait_until(lambda: any(m.text.startswith("📄") for m in zhou.inbox()))
    catch_up(zhou)
    await zhou.send("/unfollow emergency")
    assert "no longer" in (await zhou.next_message()).text


async def test_lateness_before_a_transfer_stays_with_the_old_unit(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    number, li = await accepted_by_li(harness, "Oil on the river")
    await harness.advance(timedelta(minutes=31))  # the flash report is missed by the water unit
    await harness.quiet()
    catch_up(li)
    await li.send(f"/transfer {number} emergency oil spill")
    await li.next_message()
    [flash] = await harness.rows(Deadline, incident_id=number, kind="flash_report")
    assert (flash.state, flash.late, flash.data["unit"]) == ("fired", True, "water")
    [initial] = await harness.rows(Deadline, incident_id=number, kind="initial_report")
    assert (initial.state, initial.data["unit"]) == ("pending", "emergency")


async def test_followups_are_numbered_one_two_and_only_filed_ones_count(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    """续报 are numbered 1, 2, … in the order filed: the form, the filed answer and the report
    say the number; the 首报 and a flash report do not count among them."""
    number, li = await accepted_by_li(harness, "Pipe burst under the road")
    await li.send(f"/flash {number} road closed, no one hurt")
    await li.next_message()
    await file_report(li, f"/initial {number}")
    first = await file_report(li, f"/followup {number}", {4: "repair crew on site"})
    second = await file_report(li, f"/followup {number}", {4: "pipe replaced"})
    assert "Follow-up report no. 1" in first and "Follow-up report no. 2" in second
    reports = await harness.rows(OfficialReport, incident_id=number)
    assert sorted((r.kind, r.number) for r in reports) == [
        ("flash", 1),  # flash reports have their own count
        ("followup", 1),
        ("followup", 2),
        ("initial", 0),
    ]
