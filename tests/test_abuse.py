"""The bot under abuse (issue 17): edits never act, floods are slowed, groups never read private
answers, hostile numbers get an answer instead of a traceback."""

from __future__ import annotations

from bot.db.models import IncidentRow
from tests.botapi import StandInBotApi
from tests.harness import LI, STRANGER, WANG, XU, ZHOU, BotHarness, quick_report, says

GROUP = -100_777


async def test_editing_a_sent_report_does_not_report_it_again(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    xu = harness.user(XU, "Xu")
    sent = await xu.send("/report Burst main on 3rd Street")
    await harness.quiet()
    await xu.edit(sent, "/report Burst main on 3rd Street, water rising")
    await harness.quiet()
    assert len(await harness.rows(IncidentRow)) == 1
    last = xu.inbox()[-1].text
    assert last == "Edits are not applied: send a new message instead."


async def test_an_edited_accept_is_not_applied(harness: BotHarness, botapi: StandInBotApi) -> None:
    xu, li = harness.user(XU, "Xu"), harness.user(LI, "Li")
    number = await quick_report(harness, xu, "Manhole cover missing")
    sent = await li.send("/accept 999")
    await harness.quiet()
    await li.edit(sent, f"/accept {number}")
    await harness.quiet()
    assert (await harness.incident(number)).state == "reported"


async def test_commands_that_show_data_answer_only_in_private(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    zhou = harness.user(ZHOU, "Zhou")
    await quick_report(harness, harness.user(XU, "Xu"), "Chlorine smell at the pool")
    await zhou.send_in_group(GROUP, "/status")
    await harness.quiet()
    answers = [m.text for m in botapi.messages_to(GROUP)]
    assert answers == ["Ask me in a private chat, please."]


async def test_a_flood_of_reports_from_one_person_is_capped_with_a_clear_answer(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    xu = harness.user(XU, "Xu")
    for n in range(23):
        await xu.send(f"/report flood {n}")
    await harness.quiet(timeout=30)
    assert len(await harness.rows(IncidentRow)) == 20
    refusals = [m for m in xu.inbox() if m.text.startswith("That is more than 20 reports")]
    assert len(refusals) == 3


async def test_a_stranger_is_refused_once_a_minute_however_much_they_write(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    stranger = harness.user(STRANGER, "Eve")
    for n in range(5):
        await stranger.send(f"hello {n}")
    await harness.quiet()
    assert len(stranger.inbox()) == 1
    assert str(STRANGER) in stranger.inbox()[0].text


async def test_unicode_digits_get_the_usage_not_a_traceback(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    li, wang = harness.user(LI, "Li"), harness.user(WANG, "Wang", language="zh")
    for command in ("/accept ²", "/accept ①", "/incident ١٢", "/level ³ II", "/accept -1"):
        await li.send(command)
    await wang.send("/accept ²")
    await harness.quiet()
    texts = [m.text for m in li.inbox()]
    assert len(texts) == 5
    assert not any("went wrong" in t for t in texts), texts
    assert all(t.startswith("Usage: /") for t in texts), texts
    assert wang.inbox()[-1].text.startswith(
        says("zh", "Usage: /accept <number>, for example /accept 17")
    )
