"""Duty discipline on a fake clock (SPEC §3.7): the handover at a shift change, the duty log, spot
checks and swaps, with phone numbers where someone may need to ring."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import Deadline, DutyShift, Event, SpotCheck, SwapRow
from bot.duty.service import RANDOM_CHECK, discipline_figures, random_check_times
from tests.botapi import StandInBotApi
from tests.harness import (
    CHEN,
    DUTY_ROSTER,
    GAO,
    LI,
    NEW_HIRE,
    QIAN,
    WANG,
    XU,
    ZHOU,
    BotHarness,
    alert_for,
    catch_up,
    last_with_button,
    messages_starting,
    quick_report,
    said,
    says,
    write_config,
)

TO_HANDOVER = timedelta(hours=18)  # 14:00 → 08:00 the next day: wang.fang hands over to li.lei
CARD = "Handover (交接班) at {unit}, {time}"
LATE = (
    "Duty at {unit} was not taken over: the shift changed at {time} and {people} "
    "has not pressed Take over duty."
)
CHECK = "Spot check (查岗) at {unit}: press I'm here or send /here by {time}."
MISSED = "Spot check missed at {unit}: asked at {time}, no answer from {people}."


@pytest.fixture
def config_path(tmp_path: Path, botapi: StandInBotApi, database_url: str) -> Path:
    """The test city with phones, and two random spot checks per shift."""
    return write_config(
        tmp_path,
        base_url=botapi.base_url,
        database_url=database_url,
        roster=DUTY_ROSTER,
        extra="\n[spotcheck]\nper_shift = 2\n",
    )


def cards(user, language: str = "en") -> list[str]:  # type: ignore[no-untyped-def]
    return messages_starting(user, language, CARD, "🔁 ")


async def test_shift_change_sends_one_card_with_open_items_notes_and_phones(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(WANG, LI, QIAN, XU)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Pipe burst on Elm Street")
    wang = harness.user(WANG, "Wang", "zh")
    await wang.send("/handover 泵站三号机组仍在抢修，请关注")
    noted = said("zh", "Noted: the next officer on duty will see this on the handover card.")
    await botapi.wait_until(lambda: any(m.text == noted for m in wang.inbox()))
    await wang.send("/log 来电 区防汛办询问水位")
    await harness.quiet()
    li = harness.user(LI, "Li")

    await harness.advance(TO_HANDOVER - timedelta(minutes=1))
    await harness.quiet()
    assert not cards(li)
    await harness.advance(timedelta(minutes=1))
    await botapi.wait_until(lambda: len(cards(li)) == 1)
    card = next(m for m in li.inbox() if m.text in cards(li))
    assert f"#{number} Pipe burst on Elm Street" in card.text
    assert "泵站三号机组仍在抢修" in card.text and "区防汛办询问水位" in card.text
    assert "Wang Fang" in card.text and "+86 138 0000 3003" in card.text  # the leader's phone
    assert not cards(wang, "zh")

    answer = await li.answer_to(await li.press(card, "Take over duty"))
    assert answer["text"] == said(
        "en", "You have taken over duty at {unit}.", unit="Water Authority"
    )
    again = await li.answer_to(await li.press(card, "Take over duty"))
    assert again["text"] == said("en", "Duty has already been taken over.")
    await harness.advance(timedelta(minutes=30))
    await harness.quiet()
    assert not messages_starting(harness.user(QIAN), "en", LATE, "⚠️ ")
    [shift] = await harness.rows(DutyShift, unit_id="water", handover=True)
    assert (shift.taken_over_by, shift.late, shift.outgoing) == ("li.lei", False, ["wang.fang"])


async def test_handover_not_taken_over_in_time_tells_the_leader_in_chinese_too(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(WANG, LI, QIAN, CHEN)
    qian = harness.user(QIAN, "Qian", "zh")
    await qian.send("/lang zh")
    await qian.next_message()
    wang = harness.user(WANG, "Wang", "zh")
    # the next day wang.fang comes back on duty (in Chinese) and does not take over
    await harness.advance(TO_HANDOVER)
    await harness.advance(timedelta(hours=24))
    await botapi.wait_until(lambda: len(cards(wang, "zh")) == 1)
    await harness.quiet()
    before = len(messages_starting(qian, "zh", LATE, "⚠️ "))  # li.lei did not take over
    assert before == 1
    await harness.advance(timedelta(minutes=14))
    await harness.quiet()
    assert len(messages_starting(qian, "zh", LATE, "⚠️ ")) == before
    await harness.advance(timedelta(minutes=1))  # accept_within: 15 minutes
    await botapi.wait_until(lambda: len(messages_starting(qian, "zh", LATE, "⚠️ ")) == 2)
    late = messages_starting(qian, "zh", LATE, "⚠️ ")[-1]
    assert "Wang Fang" in late and "11-29 08:00" in late
    chen = harness.user(CHEN)
    told_chen = len(messages_starting(chen, "en", LATE, "⚠️ "))
    await harness.advance(timedelta(minutes=5))  # escalation.step: up to the city duty office
    await botapi.wait_until(lambda: len(messages_starting(chen, "en", LATE, "⚠️ ")) == told_chen + 1)
    shifts = await harness.rows(DutyShift, unit_id="water", handover=True)
    assert [s.late for s in shifts] == [True, True]  # li.lei did not take over either


async def test_a_restart_across_the_handover_time_sends_the_card_once(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(LI)
    li = harness.user(LI, "Li")
    await harness.stop()
    harness.clock.advance(TO_HANDOVER + timedelta(minutes=3))
    await harness.start()
    await harness.advance(timedelta(0))
    await botapi.wait_until(lambda: len(cards(li)) == 1)
    await harness.restart()
    await harness.advance(timedelta(seconds=1))
    await harness.quiet()
    assert len(cards(li)) == 1
    at = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    assert (
        len([s for s in await harness.rows(DutyShift, unit_id="water") if s.starts_at == at]) == 1
    )


async def test_spot_check_answered_in_time_and_one_missed(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(WANG, QIAN, GAO)
    gao, wang, qian = harness.user(GAO, "Gao"), harness.user(WANG, "Wang", "zh"), harness.user(QIAN)
    await gao.send("/spotcheck water")
    assert (await gao.next_message()).text.startswith(says("en", "Spot check sent to {people}"))
    await botapi.wait_until(lambda: len(messages_starting(wang, "zh", CHECK, "📍 ")) == 1)
    check = last_with_button(wang, says("zh", "I'm here"))
    await harness.advance(timedelta(minutes=2))
    answer = await wang.answer_to(await wang.press(check))
    assert answer["text"] == said(
        "zh", "Thank you: your presence at {unit} is logged.", unit="Water Authority"
    )
    await botapi.wait_until(
        lambda: any(
            m.text.startswith("✅ " + says("en", "Spot check at {unit} answered"))
            for m in gao.inbox()
        )
    )

    catch_up(gao)
    await gao.send("/spotcheck water")
    await gao.next_message()
    await harness.advance(timedelta(minutes=4, seconds=59))
    await harness.quiet()
    assert not messages_starting(qian, "en", MISSED, "❗ ")
    await harness.advance(timedelta(seconds=1))  # answer_within: 5 minutes
    await botapi.wait_until(
        lambda: (
            len(messages_starting(qian, "en", MISSED, "❗ ")) == 1
            and len(messages_starting(gao, "en", MISSED, "❗ ")) == 1
        )
    )
    catch_up(wang)
    await wang.send("/here")  # too late: nothing is waiting any more
    assert (await wang.next_message()).text == said(
        "zh", "No spot check is waiting for your answer."
    )
    states = [c.state for c in await harness.rows(SpotCheck, unit_id="water")]
    assert states == ["answered", "missed"]
    async with harness.runtime.database.sessions() as session:  # type: ignore[union-attr]
        figures = await discipline_figures(
            session, harness.clock.now() - timedelta(hours=1), harness.clock.now()
        )
    assert (figures["water"].checks_answered, figures["water"].checks_missed) == (1, 1)
    assert figures["water"].answer_rate == 0.5


async def test_random_checks_land_inside_the_shift_at_different_times_each_day(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    await harness.advance(TO_HANDOVER)
    await harness.advance(timedelta(hours=24))
    async with harness.runtime.database.sessions() as session:  # type: ignore[union-attr]
        rows = list(await session.scalars(select(Deadline).where(Deadline.kind == RANDOM_CHECK)))
    water = sorted(r.due_at for r in rows if r.data["unit"] == "water")
    first = datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    day = timedelta(days=1)
    assert len(water) == 4
    assert all(first <= t < first + day for t in water[:2])
    assert all(first + day <= t < first + 2 * day for t in water[2:])
    times_of_day = [(t - first) % day for t in water]
    assert times_of_day[:2] != times_of_day[2:]
    # the same shift always draws the same times: deterministic in tests, unpredictable on duty
    again = random_check_times("water", first, first + day, 2, timedelta(minutes=5))
    assert again == water[:2]


async def test_swap_requested_accepted_approved_and_used_by_routing(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(LI, NEW_HIRE, QIAN, XU, WANG)
    li, hire, qian = harness.user(LI, "Li"), harness.user(NEW_HIRE, "New"), harness.user(QIAN)
    await li.send("/swap 2026-11-28 new.hire")
    assert (await li.next_message()).text.startswith(says("en", "Swap asked: {colleague}"))
    question = await hire.next_message()
    await hire.answer_to(await hire.press(question, "Accept"))
    approval = await qian.next_message()
    assert approval.text.startswith("🔄 " + says("en", "Swap to approve"))
    await qian.answer_to(await qian.press(approval, "Approve"))
    await botapi.wait_until(
        lambda: any(m.text.startswith("✅ " + says("en", "Swap approved")) for m in li.inbox())
    )
    [swap] = await harness.rows(SwapRow)
    assert swap.state == "approved"

    await harness.advance(TO_HANDOVER + timedelta(hours=1))  # 09:00 on the 28th
    await botapi.wait_until(lambda: len(cards(hire)) == 1)  # the swapped-in officer takes over
    assert not cards(li)
    await harness.quiet()
    catch_up(li)
    catch_up(hire)
    xu = harness.user(XU, "Xu")
    await quick_report(harness, xu, "Valve leaking at the reservoir")
    await alert_for(hire)
    await harness.quiet()
    assert not [m for m in li.inbox()[li._read :] if m.text.startswith("🚨")]
    await hire.send("/whoami")
    assert said("en", "On duty now:") in (await hire.next_message()).text
    catch_up(qian)
    await qian.send("/oncall water")
    officer_line = (await qian.next_message()).text.split("\n")[2]
    assert "New Hire" in officer_line and "Li Lei" not in officer_line

    await harness.restart()  # kept in the database: still in force after a restart
    assert harness.runtime is not None
    assert harness.runtime.roster.holders("water", "officer", harness.clock.now()) == ("new.hire",)
    catch_up(harness.user(ZHOU))
    await harness.user(ZHOU).send("/roster reload")
    await harness.quiet()
    assert len(await harness.rows(Event, kind="roster.loaded")) == 3  # start, restart, reload
    assert harness.runtime.roster.holders("water", "officer", harness.clock.now()) == ("new.hire",)

    shown = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "roster",
        "show",
        "--config",
        str(harness.config_path),
        "--at",
        "2026-11-28 09:00",
        cwd=harness.config_path.parent,
        env={k: v for k, v in os.environ.items() if not k.startswith("DUTYBOT_")},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await shown.communicate()
    water = out.decode().split("Water Authority")[1]
    assert "New Hire" in water.splitlines()[1]  # dutybot roster show: the roster in force


async def test_a_refused_swap_changes_nothing(harness: BotHarness, botapi: StandInBotApi) -> None:
    harness.open_chats(LI, NEW_HIRE, QIAN)
    li, hire = harness.user(LI, "Li"), harness.user(NEW_HIRE, "New")
    await li.send("/swap 2026-11-28 new.hire")
    await li.next_message()
    question = await hire.next_message()
    await hire.answer_to(await hire.press(question, "Refuse"))
    refused = await li.next_message()
    assert refused.text.startswith("✖ " + says("en", "Swap refused by {name}"))
    await harness.quiet()
    assert not harness.user(QIAN).inbox()
    [swap] = await harness.rows(SwapRow)
    assert swap.state == "refused"
    assert harness.runtime is not None
    at = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
    assert harness.runtime.roster.holders("water", "officer", at) == ("li.lei",)


async def test_dutylog_shows_the_shift_in_both_languages(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(WANG, LI, QIAN, XU, GAO)
    xu, wang, gao = harness.user(XU, "Xu"), harness.user(WANG, "Wang", "zh"), harness.user(GAO)
    number = await quick_report(harness, xu, "Hydrant knocked over")
    await wang.send(f"/accept {number}")
    await wang.send("/log call the district asked about the water level")
    await wang.send("/handover 三号泵站请继续关注")
    await gao.send("/spotcheck water")
    await botapi.wait_until(lambda: len(messages_starting(wang, "zh", CHECK, "📍 ")) == 1)
    await wang.send("/here")
    await harness.quiet()  # everything is handled (and stamped) before the clock moves
    await harness.advance(TO_HANDOVER)
    li = harness.user(LI)
    await botapi.wait_until(lambda: len(cards(li)) == 1)
    await li.press(next(m for m in li.inbox() if m.text in cards(li)), "Take over duty")
    await harness.quiet()

    catch_up(wang)
    await wang.send("/dutylog water 2026-11-27")
    zh = (await wang.next_message()).text
    assert zh.startswith(says("zh", "Duty log (值班日志) of {unit}, shift {start} → {end}"))
    for line in (
        said("zh", "Report received: #{number}", number=number),
        said("zh", "#{number} accepted by {who}", number=number, who="Wang Fang"),
        said("zh", "Spot check asked of {officers}", officers="Wang Fang"),
        said("zh", "Spot check answered by {who} after {minutes} min", who="Wang Fang", minutes=0),
        said("zh", "Handover notes by {who}: {note}", who="Wang Fang", note="三号泵站请继续关注"),
    ):
        assert line in zh, zh
    assert "the district asked about the water level" in zh
    qian = harness.user(QIAN)
    await harness.quiet()
    catch_up(qian)  # the leader on duty also got the daily bulletin at 08:00
    await qian.send("/dutylog water")
    en = (await qian.next_message()).text
    assert said("en", "Duty taken over by {who}", who="Li Lei") in en
    assert says("en", "Handover card sent to {incoming}") in en
    assert "Li Lei ☎ +86 138 0000 3002" not in en  # the log names; cards carry phones
    catch_up(xu)
    await xu.send("/dutylog water")  # field staff: not theirs to read
    refusal = (await xu.next_message()).text
    assert not refusal.startswith(
        says("en", "Duty log (值班日志) of {unit}, shift {start} → {end}")
    )


async def test_oncall_shows_tappable_phone_numbers(harness: BotHarness) -> None:
    harness.open_chats(QIAN)
    qian = harness.user(QIAN)
    await qian.send("/oncall water")
    text = (await qian.next_message()).text
    assert "Qian Bo ☎ +86 138 0000 3003" in text


def test_spotcheck_settings_default_to_the_spec_and_refuse_nonsense(tmp_path: Path) -> None:
    from bot.errors import ConfigError
    from bot.settings import load_settings

    config = write_config(tmp_path, base_url="http://127.0.0.1:1", database_url="sqlite://")
    settings = load_settings(config)
    assert settings.spotcheck_answer_within == timedelta(minutes=5)
    assert settings.spotcheck_per_shift == 0
    bad = write_config(
        tmp_path,
        base_url="http://127.0.0.1:1",
        database_url="sqlite://",
        extra='\n[spotcheck]\nper_shift = "often"\n',
    )
    with pytest.raises(ConfigError, match="per_shift"):
        load_settings(bad)
    bad.write_text(bad.read_text().replace('"often"', "100"))
    with pytest.raises(ConfigError, match="per_shift"):
        load_settings(bad)


async def test_escalation_card_shows_the_phone_of_the_person_to_ring(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(WANG, LI, XU)
    xu, li, wang = harness.user(XU, "Xu"), harness.user(LI, "Li"), harness.user(WANG, "Wang", "zh")
    number = await quick_report(harness, xu, "Manhole cover missing")
    await alert_for(li)
    await li.send(f"/accept {number}")
    await harness.quiet()
    await harness.advance(timedelta(hours=1))  # the initial report is late: the officer rung
    escalated = "🔺 " + says(
        "zh", "ESCALATION #{number}: {what} is late by {late} (was due {due})."
    )
    await botapi.wait_until(lambda: any(m.text.startswith(escalated) for m in wang.inbox()))
    card = next(m.text for m in wang.inbox() if m.text.startswith(escalated))
    assert said("zh", "Responsible: {name}", name="Li Lei ☎ +86 138 0000 3002") in card
