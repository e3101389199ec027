"""Scenarios: directives (督办, SPEC §3.6) — issued by the form, received, answered, extended,
reviewed, escalated when not received, instructions on an incident — through the stand-in Bot
API with a fake clock, in English and Chinese; and a kill -9 with a reminder due."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from pathlib import Path

from bot.db.models import DirectiveRow
from tests.botapi import Sent, StandInBotApi, User
from tests.harness import (
    CHEN,
    GAO,
    LI,
    QIAN,
    SUN,
    WANG,
    WU,
    XU,
    ZHOU,
    BotHarness,
    internal_values,
    start_bot,
    write_config,
)


async def read_until(user: User, start: str) -> Sent:
    """The next message to ``user`` that starts with ``start`` (skipping others)."""
    while True:
        message = await user.next_message()
        if message.text.startswith(start) or start in message.text.split("\n", 1)[0]:
            return message


async def issue_by_form(
    harness: BotHarness, issuer: User, lead: str, assisting: list[str], urgency: str, text: str
) -> int:
    """Fill the /directive form; return the new directive's number."""
    await issuer.send("/directive")
    ask = await issuer.next_message()
    await issuer.press(ask, lead)
    ask = await issuer.next_message()
    for unit in assisting:
        await issuer.press(ask, unit)
        ask = await issuer.next_message()
    if ask.buttons() and any("Done" in t or "完成" in t for t, _ in ask.buttons()):
        await issuer.press(ask, "Done")
        ask = await issuer.next_message()
    if urgency.startswith("+") or urgency[:1].isdigit():
        await issuer.send(urgency.lstrip("+"))
    else:
        await issuer.press(ask, urgency)
    await issuer.next_message()  # what is to be done?
    await issuer.send(text)
    preview = await issuer.next_message()
    await issuer.press(preview, "Issue")
    done = await issuer.next_message()
    assert "issued" in done.text, done.text
    rows = await harness.rows(DirectiveRow)
    return int(rows[-1].id)


async def test_issue_receive_feedback_complete_accept_on_time(harness: BotHarness) -> None:
    harness.open_chats(ZHOU, WANG, LI, WU)
    zhou = harness.user(ZHOU, "Zhou")
    wang = harness.user(WANG, "Wang", language="zh")
    wu = harness.user(WU, "Wu")
    number = await issue_by_form(
        harness, zhou, "Water Authority", ["Emergency Bureau"], "urgent", "Check every dyke"
    )
    card = await wang.next_message()
    assert card.text.startswith("📌") and f"D{number}" in card.text
    assert "督办" in card.text and "主办单位" in card.text and "特急" in card.text
    assert "│ Check every dyke" in card.text
    info = await wu.next_message()
    assert "assists" in info.text and "/feedback" in info.text and not info.buttons()

    await wang.press(card, "签收")
    await harness.quiet()
    notice = await read_until(zhou, "✍️")
    assert "received by Wang Fang" in notice.text and "late" not in notice.text

    await wu.send(f"/feedback D{number} pumps ready at the east gate")
    await harness.quiet()
    assert "input from the assisting unit" in (await read_until(zhou, "📝")).text
    relayed = await read_until(wang, "📝")
    assert "pumps ready at the east gate" in relayed.text

    await wang.send(f"/feedback D{number} 已完成 所有堤防已巡查")
    await harness.quiet()
    review = await read_until(zhou, "🏁")
    assert "reports it done" in review.text and "所有堤防已巡查" in review.text
    await zhou.press(review, "Accept as done")
    await harness.quiet()
    closed = await read_until(wang, "🏁")
    assert "办结" in closed.text and "按时" in closed.text

    [row] = await harness.rows(DirectiveRow)
    assert row.state == "closed" and row.closed_on_time is True and not row.receive_late

    await zhou.send(f"/directive D{number}")
    history = (await zhou.next_message()).text
    for line in ("issued", "received (签收)", "feedback", "reported done", "closed (办结)"):
        assert line in history, history


async def test_not_received_climbs_the_lead_units_chain_with_press_and_take_over(
    harness: BotHarness,
) -> None:
    harness.open_chats(ZHOU, WANG, LI, QIAN, CHEN, SUN)
    zhou, wang, qian, sun = (
        harness.user(ZHOU, "Zhou"),
        harness.user(WANG, "Wang", language="zh"),
        harness.user(QIAN, "Qian"),
        harness.user(SUN, "Sun"),
    )
    number = await issue_by_form(harness, zhou, "Water Authority", [], "routine", "Survey wells")
    await read_until(wang, "📌")
    await harness.advance(timedelta(minutes=29))
    await harness.quiet()
    assert not [m for m in qian.inbox() if "DIRECTIVE" in m.text]

    await harness.advance(timedelta(minutes=2))  # receive_within (30 min) passed
    await harness.quiet()
    card = await read_until(qian, "🔺")
    assert f"DIRECTIVE D{number}: receiving it (签收) is late by 1 min" in card.text
    assert [t for t, _ in card.buttons()] == ["‼️ Press", "🙋 Take over"]
    await qian.press(card, "Press")
    await harness.quiet()
    pressed = await read_until(wang, "‼️")
    assert "催办" in pressed.text and f"D{number}" in pressed.text

    await harness.advance(timedelta(minutes=5))  # the next rung: the city duty office
    await harness.quiet()
    top = await read_until(sun, "🔺")
    await sun.press(top, "Take over")
    await harness.quiet()
    assert "Taken over from above" in (await read_until(zhou, "✍️")).text
    [row] = await harness.rows(DirectiveRow)
    assert row.received_by == "sun.li" and row.receive_late is True and row.state == "received"

    before = len(qian.inbox()) + len(sun.inbox())
    await harness.advance(timedelta(minutes=30))  # the ladder stopped
    await harness.quiet()
    assert len(qian.inbox()) + len(sun.inbox()) == before


async def test_extension_approved_then_refused_and_not_after_the_deadline(
    harness: BotHarness,
) -> None:
    harness.open_chats(ZHOU, WANG, LI)
    zhou, wang = harness.user(ZHOU, "Zhou"), harness.user(LI, "Li")
    number = await issue_by_form(harness, zhou, "Water Authority", [], "pressing", "Repair gate 3")
    card = await read_until(wang, "📌")
    await wang.press(card, "Receive")
    await harness.quiet()
    [row] = await harness.rows(DirectiveRow)
    first_due = row.due_at

    for bad in (f"/extend D{number} soon please", f"/extend D{number} 2d", "/extend ² 2d x"):
        await wang.send(bad)  # no limit, no reason, no number: how to use it, nothing asked
        assert "Usage: /extend" in (await read_until(wang, "Usage")).text
    await wang.send(f"/extend D{number} 2d parts arrive on Monday")
    await harness.quiet()
    assert "went to the issuer" in (await read_until(wang, f"D{number}: your request")).text
    request = await read_until(zhou, "⏳")
    assert (
        "asks to extend the deadline" in request.text and "parts arrive on Monday" in request.text
    )
    await zhou.press(request, "Approve")
    await harness.quiet()
    assert "extension approved" in (await read_until(wang, "⏳")).text
    [row] = await harness.rows(DirectiveRow)
    assert row.due_at == first_due + timedelta(days=2) and row.extensions == 1

    await wang.send(f"/extend D{number} 1d still waiting")
    await harness.quiet()
    second = await read_until(zhou, "⏳")
    await zhou.press(second, "Refuse")
    await harness.quiet()
    assert "extension refused" in (await read_until(wang, "⏳")).text
    [row] = await harness.rows(DirectiveRow)
    assert row.due_at == first_due + timedelta(days=2) and row.extensions == 1

    await zhou.press(second, "Approve")  # pressed again after the decision: nothing changes
    await harness.quiet()
    [row] = await harness.rows(DirectiveRow)
    assert row.extensions == 1

    await harness.advance(timedelta(days=8))  # past the deadline
    await harness.quiet()
    await wang.send(f"/extend D{number} 1d too late")
    await harness.quiet()
    assert (
        "must be asked before the deadline" in (await read_until(wang, f"D{number}: an ext")).text
    )


async def test_sent_back_with_a_new_deadline_then_missed_after_an_ignored_reminder(
    harness: BotHarness,
) -> None:
    harness.open_chats(ZHOU, WANG, LI, QIAN)
    zhou, wang, qian = (
        harness.user(ZHOU, "Zhou"),
        harness.user(LI, "Li"),
        harness.user(QIAN, "Qian"),
    )
    number = await issue_by_form(harness, zhou, "Water Authority", [], "+6h", "Count sandbags")
    card = await read_until(wang, "📌")
    await wang.press(card, "Receive")
    await wang.send(f"/feedback D{number} done 4000 sandbags counted")
    await harness.quiet()
    review = await read_until(zhou, "🏁")
    await zhou.press(review, "Send back")
    await harness.quiet()
    assert "reply with the new time limit" in (await zhou.next_message()).text
    await zhou.send("nonsense")
    await harness.quiet()
    assert "Reply with the new time limit" in (await zhou.next_message()).text
    await zhou.send("3h split them by depot")
    await harness.quiet()
    back = await read_until(wang, "↩️")
    assert "was sent back" in back.text and "split them by depot" in back.text
    [row] = await harness.rows(DirectiveRow)
    assert row.state == "received" and row.sent_back == 1

    await harness.advance(timedelta(hours=1, minutes=1))  # warn_before (2 h) the new deadline
    await harness.quiet()
    assert "Reminder" in (await read_until(wang, "⏰")).text
    await harness.advance(timedelta(hours=2))  # the new deadline passes, the reminder ignored
    await harness.quiet()
    assert "feedback was due now" in (await read_until(wang, "⏰")).text
    late = await read_until(qian, "🔺")
    assert f"DIRECTIVE D{number}: its feedback is late by" in late.text
    await zhou.send("/directives")
    listing = (await read_until(zhou, "Open directives")).text
    assert f"🔴 D{number}" in listing, listing
    await zhou.send("/overdue")
    late_part = (await read_until(zhou, "Directives overdue")).text
    assert "Directives overdue (督办): 1" in late_part and f"🔴 D{number}" in late_part
    gao = harness.user(GAO, "Gao")  # the water supervisor watches it too
    await gao.send("/status")
    assert f"D{number}" in (await read_until(gao, "Open directives (督办)")).text
    [row] = await harness.rows(DirectiveRow)
    assert row.overdue is True


async def test_an_instruction_on_an_incident_is_a_tracked_directive_on_its_card(
    harness: BotHarness,
) -> None:
    harness.open_chats(ZHOU, WANG, LI, XU, SUN)
    zhou, wang, xu = harness.user(ZHOU, "Zhou"), harness.user(LI, "Li"), harness.user(XU, "Xu")
    await xu.send("/report Water main burst on Nanjing Road")
    await harness.quiet()
    await zhou.send("/incident 1")
    view = await zhou.next_message()
    assert any("Instruct" in t for t, _ in view.buttons())
    await zhou.press(view, "Instruct")
    await harness.quiet()
    assert "Your instruction (批示) on #1" in (await zhou.next_message()).text
    await zhou.send("Close the road and open the shelters")
    await harness.quiet()
    assert "issued" in (await zhou.next_message()).text
    card = await read_until(wang, "📌")
    assert "Instruction on incident #1" in card.text and "urgent" in card.text
    [row] = await harness.rows(DirectiveRow)
    assert row.incident_id == 1 and row.urgency == "urgent" and row.lead_unit_id == "water"
    assert row.due_at == row.issued_at + timedelta(hours=24)

    sun = harness.user(SUN, "Sun")  # a leader may instruct on a unit below his own
    await sun.send("/instruct 1 Report casualties every hour")
    await harness.quiet()
    assert "issued" in (await sun.next_message()).text
    await zhou.send("/incident 1")
    text = (await zhou.next_message()).text
    assert "Instructions (批示):" in text and "D1" in text and "D2" in text
    assert "instruction (批示) by Zhou Hua: D1" in text


async def test_an_outsider_can_neither_see_nor_act_on_a_directive(harness: BotHarness) -> None:
    harness.open_chats(ZHOU, WANG, LI, WU, XU, GAO, QIAN)
    zhou, wu, xu, gao, qian = (
        harness.user(ZHOU, "Zhou"),
        harness.user(WU, "Wu"),
        harness.user(XU, "Xu"),
        harness.user(GAO, "Gao"),
        harness.user(QIAN, "Qian"),
    )
    number = await issue_by_form(harness, zhou, "Water Authority", [], "urgent", "Secret plan")
    card = await read_until(harness.user(WANG, "Wang"), "📌")
    unknown = "No directive with that number that concerns you."
    for outsider in (wu, xu):
        await outsider.send(f"/directive D{number}")
        assert (await outsider.next_message()).text == unknown
        await outsider.send(f"/directive D{number + 7}")
        assert (await outsider.next_message()).text == unknown  # the same answer: no mapping
        await outsider.send(f"/feedback D{number} done it is done")
        assert (await outsider.next_message()).text in (unknown, "This command is not for you.")
        query = await outsider.press(card)
        assert unknown in str((await outsider.answer_to(query)).get("text"))
    await wu.send("/directives")
    assert "No open directives" in (await wu.next_message()).text
    await gao.send(f"/directive D{number}")  # the water supervisor sees it
    assert "Secret plan" in (await gao.next_message()).text
    await qian.send("/directive")  # the water leader has no unit below his own
    assert "only to the units below you" in (await qian.next_message()).text
    [row] = await harness.rows(DirectiveRow)
    assert row.state == "issued" and row.received_at is None


async def test_the_handover_card_and_the_duty_log_carry_the_units_directives(
    harness: BotHarness,
) -> None:
    harness.open_chats(ZHOU, WANG, LI, QIAN)
    zhou, li = harness.user(ZHOU, "Zhou"), harness.user(LI, "Li")
    number = await issue_by_form(harness, zhou, "Water Authority", [], "routine", "Audit pumps")
    card = await read_until(li, "📌")
    await li.press(card, "Receive")
    await harness.quiet()
    await harness.advance(timedelta(hours=18))  # 28 Nov 08:00 local: Li takes over from Wang
    await harness.quiet()
    handover = await read_until(li, "🔁")
    assert "Open directives:" in handover.text and f"D{number}" in handover.text
    await li.send("/dutylog water 2026-11-27")
    log = (await read_until(li, "")).text
    while "Directive" not in log:
        log = (await li.next_message()).text
    assert f"Directive D{number} arrived" in log and f"Directive D{number} received" in log


async def test_a_kill_with_a_reminder_due_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, botapi: StandInBotApi, database_url: str
) -> None:
    config = write_config(
        tmp_path,
        base_url=botapi.base_url,
        database_url=database_url,
        extra=(
            '\n[directives]\nwarn_before = "3s"\n\n[directives.urgency]\nurgent = "5s"\n'
            '\n[escalation]\nstep = "1m"\nrepeat = "30m"\n'
        ),
    )
    botapi.started_chats.update({WANG, LI, QIAN, CHEN, SUN, ZHOU, XU})
    xu, zhou = botapi.user(XU, "Xu"), botapi.user(ZHOU, "Zhou")
    li, qian = botapi.user(LI, "Li"), botapi.user(QIAN, "Qian")
    first = await start_bot(config)
    try:
        await xu.send("/report Dyke breach at Hexi")
        await xu.next_message(timeout=30)
        await zhou.send("/instruct 1 Evacuate the village now")
        await botapi.wait_until(lambda: any("issued" in m.text for m in zhou.inbox()), 30)
        await botapi.wait_until(lambda: any(m.text.startswith("📌") for m in li.inbox()), 30)
        await asyncio.sleep(0.5)  # the card's delivery is recorded: the kill comes after it
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    await asyncio.sleep(6)  # the reminder and the deadline pass while the bot is down
    second = await start_bot(config)
    try:
        await botapi.wait_until(
            lambda: any("DIRECTIVE D1" in m.text for m in qian.inbox()), timeout=30
        )
        await botapi.wait_until(
            lambda: sum(m.text.startswith("⏰") for m in li.inbox()) >= 2, timeout=30
        )
        await asyncio.sleep(2)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), timeout=30)
    assert sum(m.text.startswith("📌") for m in li.inbox()) == 1  # the card, once
    assert sum("Reminder: D1" in m.text for m in li.inbox()) == 1
    assert sum("feedback was due now" in m.text for m in li.inbox()) == 1
    assert sum("DIRECTIVE D1" in m.text for m in qian.inbox()) == 1


async def test_a_whole_directive_in_chinese_shows_no_internal_value(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    people = (ZHOU, WANG, LI, WU, QIAN, CHEN, SUN, XU)
    harness.open_chats(*people)
    users = {uid: harness.user(uid, "User", "zh") for uid in people}
    for uid in people:
        if uid != WANG:
            await users[uid].send("/lang zh")
            await users[uid].next_message()
    zhou, wang, wu, qian, sun, xu = (users[u] for u in (ZHOU, WANG, WU, QIAN, SUN, XU))

    await zhou.send("/directive")
    ask = await zhou.next_message()
    assert "主办单位" in ask.text
    await zhou.press(ask, "Water Authority")
    ask = await zhou.next_message()
    await zhou.press(ask, "Emergency Bureau")
    ask = await zhou.next_message()
    await zhou.press(ask, "完成")
    ask = await zhou.next_message()
    assert [t for t, _ in ask.buttons()][:2] == ["特急 (1天)", "加急 (5天)"]
    await zhou.press(ask, "加急")
    await zhou.next_message()
    await zhou.send("全面排查河堤隐患")
    preview = await zhou.next_message()
    assert "确认下发" in preview.text
    await zhou.press(preview, "下发")
    await harness.quiet()
    card = await read_until(wang, "📌")
    await wang.press(card)
    await wu.send("/feedback D1 已调派两台抽水泵")
    await wang.send("/extend D1 2d 等待勘察结果")
    await harness.quiet()
    request = await read_until(zhou, "⏳")
    await zhou.press(request, "同意")
    await harness.quiet()
    await wang.send("/feedback D1 办结 已全部排查完毕")
    await harness.quiet()
    review = await read_until(zhou, "🏁")
    await zhou.press(review, "退回")
    await harness.quiet()
    await zhou.send("1d 请补充照片")
    await harness.quiet()
    await wang.send("/feedback D1 完成 照片已补充")
    await harness.quiet()
    review = await read_until(zhou, "🏁")
    await zhou.press(review, "确认办结")
    await xu.send("/report 河口村堤坝渗水")
    await harness.quiet()
    await zhou.send("/instruct 1 立即组织群众转移")
    await harness.quiet()
    await harness.advance(timedelta(minutes=31))  # D2 (the instruction) not received: 逐级催报
    await harness.quiet()
    escalated = await read_until(qian, "🔺 督办事项 D2")
    await qian.press(escalated, "催办")
    await harness.advance(timedelta(minutes=5))
    await harness.quiet()
    top = await read_until(sun, "🔺 督办事项 D2")
    taken = await sun.answer_to(await sun.press(top, "接手"))
    assert "已由您接手" in str(taken.get("text")), taken
    for command in ("/directives", "/directive D1", "/directive D2", "/overdue", "/status"):
        await harness.quiet()
        await zhou.send(command)
    await zhou.send("/incident 1")
    await harness.quiet()
    await wang.send("/dutylog")
    await harness.quiet()
    texts = [m.text for uid in people for m in users[uid].inbox()]
    texts += [str(a.get("text", "")) for a in botapi.callback_answers.values()]
    texts += [t for uid in people for m in users[uid].inbox() for t, _ in m.buttons()]
    assert len(texts) > 40
    assert not internal_values(texts)
    history = next(m.text for m in zhou.inbox() if m.text.startswith("📌 督办事项 D1"))
    for word in ("签收", "反馈进展", "申请延期", "同意延期", "报告办结", "退回", "确认办结"):
        assert word in history, (word, history)
    [first, second] = await harness.rows(DirectiveRow)
    assert first.state == "closed" and first.extensions == 1 and first.sent_back == 1
    assert second.received_by == "sun.li" and second.receive_late


async def test_an_extension_decided_while_the_lead_unit_reports_done_never_fails(
    harness: BotHarness,
) -> None:
    harness.open_chats(ZHOU, WANG, LI)
    zhou, li = harness.user(ZHOU, "Zhou"), harness.user(LI, "Li")
    number = await issue_by_form(harness, zhou, "Water Authority", [], "pressing", "Fix gate 9")
    card = await read_until(li, "📌")
    await li.press(card, "Receive")
    await li.send(f"/extend D{number} 1d waiting for a crane")
    await harness.quiet()
    request = await read_until(zhou, "⏳")
    # both at once: the directive's row is locked by whichever comes first, the other waits
    await asyncio.gather(
        zhou.press(request, "Approve"), li.send(f"/feedback D{number} done gate fixed")
    )
    await harness.quiet()
    texts = [m.text for m in zhou.inbox() + li.inbox()]
    assert not [t for t in texts if "went wrong" in t]
    [row] = await harness.rows(DirectiveRow)
    assert row.state == "completed"
    review = await read_until(zhou, "🏁")
    await zhou.press(review, "Accept as done")
    await harness.quiet()
    [row] = await harness.rows(DirectiveRow)
    assert row.state == "closed"
