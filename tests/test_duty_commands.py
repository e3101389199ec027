"""Scenarios: who is on duty (/oncall, /roster), bad input, forged buttons and failures."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from tests.botapi import TOKEN
from tests.harness import GAO, LI, WANG, XU, ZHOU, BotHarness


async def test_oncall_shows_the_supervisors_units_with_handover_and_gaps(
    harness: BotHarness,
) -> None:
    gao = harness.user(GAO, "Gao")  # supervisor of the water authority
    await gao.send("/oncall")
    reply = (await gao.next_message()).text
    assert "Water Authority" in reply
    assert "Officer: Wang Fang" in reply and "Backup: Li Lei" in reply
    assert "next handover 2026-11-28 08:00" in reply
    assert "Emergency Bureau" not in reply
    await gao.send("/oncall emergency")
    assert "outside what you may see" in (await gao.next_message()).text


async def test_oncall_for_the_city_supervisor_shows_the_gap_at_a_fake_time(
    harness: BotHarness,
) -> None:
    harness.clock.advance(timedelta(hours=22))  # 28 Nov 12:00 local: the emergency leader gap
    zhou = harness.user(ZHOU, "Zhou")
    await zhou.send("/oncall emergency")
    reply = (await zhou.next_message()).text
    assert "Leader: ⚠️ nobody (gap)" in reply
    assert "Officer: Zheng Mei" in reply  # the rotation moved on at 08:00


async def test_oncall_marks_people_without_an_account(harness: BotHarness, tmp_path: Path) -> None:
    roster = harness.config_path.parent / "roster.toml"
    roster.write_text(roster.read_text().replace('people = ["qian.bo"]', 'people = ["new.hire"]'))
    zhou = harness.user(ZHOU, "Zhou")
    await zhou.send("/roster reload")
    assert "Roster reloaded" in (await zhou.next_message()).text
    await zhou.send("/oncall water")
    assert "New Hire (no Telegram account linked)" in (await zhou.next_message()).text


async def test_field_staff_may_not_see_the_roster(harness: BotHarness) -> None:
    xu = harness.user(XU, "Xu")
    await xu.send("/oncall")
    assert "Only duty officers" in (await xu.next_message()).text
    await xu.send("/roster")
    assert "Only an administrator" in (await xu.next_message()).text


async def test_a_broken_roster_reload_keeps_the_old_roster(harness: BotHarness) -> None:
    roster = harness.config_path.parent / "roster.toml"
    roster.write_text(roster.read_text().replace('people = ["qian.bo"]', 'people = ["ghost"]'))
    zhou = harness.user(ZHOU, "Zhou")
    await zhou.send("/roster reload")
    reply = (await zhou.next_message()).text
    assert "not reloaded" in reply and "ghost" in reply
    await zhou.send("/roster")
    assert "Leader: Qian Bo" in (await zhou.next_message()).text


async def test_unknown_commands_and_stray_text_get_a_clear_answer(harness: BotHarness) -> None:
    wang = harness.user(WANG, "Wang", "zh")
    await wang.send("/frobnicate")
    assert "无法识别该命令" in (await wang.next_message()).text
    li = harness.user(LI, "Li")
    await li.send("x" * 5000)
    assert "only understand commands" in (await li.next_message()).text
    await li.send("/lang klingon")
    assert "Usage: /lang" in (await li.next_message()).text
    await li.send("/whoami")
    assert "Li Lei" in (await li.next_message()).text  # still serving


async def test_forged_button_data_is_refused_and_changes_nothing(harness: BotHarness) -> None:
    li = harness.user(LI, "Li")
    await li.send("/lang")
    menu = await li.next_message()
    for forged in ("1:lang:fr", "2:lang:zh", "1:accept:17", "garbage"):
        query = await li.press(menu, data=forged)
        answer = await li.answer_to(query)
        assert answer.get("show_alert") and "no longer valid" in answer["text"]
    await li.send("/help")
    assert "What you can do" in (await li.next_message()).text  # still English


async def test_a_failure_gets_a_polite_answer_and_never_logs_the_token(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"database on fire; url has {TOKEN}")

    monkeypatch.setattr("bot.identity.flows.set_language", broken)
    li = harness.user(LI, "Li")
    from bot.logging_setup import RedactToken

    caplog.handler.addFilter(RedactToken(TOKEN))
    with caplog.at_level(logging.ERROR):
        await li.send("/lang zh")
        reply = await li.next_message()
    assert "something went wrong" in reply.text
    assert "error while handling an update" in caplog.text
    assert TOKEN not in caplog.text
