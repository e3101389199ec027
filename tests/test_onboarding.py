"""Scenarios of people meeting the bot: greeting, identity, strangers, help, language, invites."""

from __future__ import annotations

from datetime import timedelta

from tests.botapi import BOT_USERNAME
from tests.harness import GAO, STRANGER, WANG, XU, ZHOU, BotHarness, says

START_LINK = f"https://t.me/{BOT_USERNAME}?start="
STRANGER_REFUSAL = (
    "Sorry, this bot serves the duty desk's roster only. Your Telegram id is {id}: "
    "give it to your duty office administrator to be added."
)


async def test_roster_person_is_greeted_by_name_with_unit_and_roles(harness: BotHarness) -> None:
    xu = harness.user(XU, "Xu")
    await xu.send("/start")
    reply = await xu.next_message()
    assert "Xu Tao" in reply.text
    assert "Water Authority" in reply.text
    assert "field staff" in reply.text


async def test_whoami_shows_an_officer_on_duty_now_until_the_handover(harness: BotHarness) -> None:
    # 27 Nov 14:00 local: day 26 of a two-person rotation from 1 Nov -> wang.fang holds officer.
    wang = harness.user(WANG, "Wang", "en")
    await wang.send("/whoami")
    reply = await wang.next_message()
    assert "Wang Fang" in reply.text
    assert "值班员" in reply.text  # roster language zh beats Telegram's en
    assert "2026-11-28 08:00" in reply.text


async def test_whoami_tells_a_person_off_duty_when_their_next_shift_starts(
    harness: BotHarness,
) -> None:
    li = harness.user(3002, "Li")
    await li.send("/whoami")
    reply = await li.next_message()
    # li.lei is today's backup; tomorrow 08:00 he becomes officer, so he *is* on duty now as backup.
    assert "Backup, Water Authority" in reply.text
    harness.clock.advance(timedelta(days=1))
    await li.send("/whoami")
    reply = await li.next_message()
    while reply.text.startswith("🔁"):  # the handover card of the shift change he crossed
        reply = await li.next_message()
    assert "Officer, Water Authority" in reply.text


async def test_field_worker_is_not_on_duty(harness: BotHarness) -> None:
    xu = harness.user(XU, "Xu")
    await xu.send("/whoami")
    reply = await xu.next_message()
    assert "Not on duty now." in reply.text


async def test_stranger_gets_one_refusal_with_their_id_and_nothing_else(
    harness: BotHarness,
) -> None:
    stranger = harness.user(STRANGER, "Eve")
    await stranger.send("/start")
    reply = await stranger.next_message()
    assert reply.text.startswith(says("en", STRANGER_REFUSAL))
    assert str(STRANGER) in reply.text
    await stranger.send("/whoami")  # within the minute: one refusal is enough
    await harness.quiet()
    assert len(stranger.inbox()) == 1
    harness.clock.advance(timedelta(minutes=1))
    await stranger.send("/whoami")
    reply = await stranger.next_message()
    assert reply.text.startswith(says("en", STRANGER_REFUSAL))
    assert str(STRANGER) in reply.text and "Unit" not in reply.text
    await harness.quiet()
    assert len(stranger.inbox()) == 2


async def test_help_differs_between_field_worker_and_supervisor(harness: BotHarness) -> None:
    xu, gao = harness.user(XU, "Xu"), harness.user(GAO, "Gao")
    await xu.send("/help")
    field_help = (await xu.next_message()).text
    await gao.send("/help")
    supervisor_help = (await gao.next_message()).text
    assert "/whoami" in field_help and "/whoami" in supervisor_help
    assert "/oncall" in supervisor_help
    assert "/oncall" not in field_help
    assert "/invite" not in supervisor_help


async def test_chinese_speaking_user_gets_chinese(harness: BotHarness) -> None:
    xu = harness.user(XU, "Xu", "zh-hans")  # roster says en for Xu? no: Xu has no roster language
    await xu.send("/help")
    reply = await xu.next_message()
    assert reply.text.startswith(says("zh", "What you can do ({roles}):"))


async def test_lang_command_switches_language_and_is_remembered(harness: BotHarness) -> None:
    gao = harness.user(GAO, "Gao", "en")
    await gao.send("/lang zh")
    assert (await gao.next_message()).text.startswith(says("zh", "Language set to {language}."))
    await gao.send("/help")
    assert (await gao.next_message()).text.startswith(says("zh", "What you can do ({roles}):"))
    await harness.restart()
    await gao.send("/lang")
    menu = await gao.next_message()
    assert menu.buttons()
    query = await gao.press(menu, "English")
    await gao.answer_to(query)
    await harness.botapi.wait_until(lambda: menu.text.startswith("Language set"))
    await gao.send("/help")
    assert "What you can do" in (await gao.next_message()).text


async def test_invite_links_an_account_once(harness: BotHarness) -> None:
    admin = harness.user(ZHOU, "Zhou")
    await admin.send("/invite new.hire")
    invite = await admin.next_message()
    assert START_LINK in invite.text
    code = invite.text.split(START_LINK)[1].split()[0]

    newcomer = harness.user(5555, "Newbie")
    await newcomer.send(f"/start {code}")
    welcome = await newcomer.next_message()
    assert "New Hire" in welcome.text and "linked" in welcome.text
    await newcomer.send("/whoami")
    assert "New Hire" in (await newcomer.next_message()).text
    assert "whoami" in harness.botapi.commands_for_chat(5555)

    thief = harness.user(6666, "Thief")
    await thief.send(f"/start {code}")
    refusal = await thief.next_message()
    assert "already been used" in refusal.text
    await thief.send("/whoami")
    assert str(6666) in (await thief.next_message()).text  # still a stranger


async def test_expired_or_unknown_invite_is_refused(harness: BotHarness) -> None:
    admin = harness.user(ZHOU, "Zhou")
    await admin.send("/invite new.hire")
    code = (await admin.next_message()).text.split(START_LINK)[1].split()[0]
    harness.clock.advance(timedelta(hours=24, seconds=1))
    newcomer = harness.user(5555, "Newbie")
    await newcomer.send(f"/start {code}")
    assert "expired" in (await newcomer.next_message()).text
    await newcomer.send("/start not-a-real-code")
    assert "not valid" in (await newcomer.next_message()).text


async def test_restart_keeps_linked_accounts_and_unused_invites(harness: BotHarness) -> None:
    admin = harness.user(ZHOU, "Zhou")
    await admin.send("/invite new.hire")
    code = (await admin.next_message()).text.split(START_LINK)[1].split()[0]
    await harness.restart()
    newcomer = harness.user(5555, "Newbie")
    await newcomer.send(f"/start {code}")
    assert "linked" in (await newcomer.next_message()).text
    await harness.restart()
    await newcomer.send("/whoami")
    assert "New Hire" in (await newcomer.next_message()).text


async def test_only_admins_may_invite(harness: BotHarness) -> None:
    gao = harness.user(GAO, "Gao")
    await gao.send("/invite new.hire")
    assert "Only an administrator" in (await gao.next_message()).text
    admin = harness.user(ZHOU, "Zhou")
    await admin.send("/invite nobody.here")
    assert "nobody with the id" in (await admin.next_message()).text
    await admin.send("/invite")
    assert "Usage" in (await admin.next_message()).text
