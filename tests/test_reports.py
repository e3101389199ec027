"""Scenarios of the duty line: a field worker reports, the officers on duty are alerted, one
accepts; transfers, dismissals, merges; bad input."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.db.models import Deadline, Follow
from bot.incidents.service import followers
from bot.render import local_time
from tests.botapi import Sent, StandInBotApi, User
from tests.harness import (
    CHEN,
    GAO,
    LI,
    MA,
    MECHANISM_LEVELS,
    QIAN,
    WANG,
    WU,
    XU,
    ZHENG,
    ZHOU,
    BotHarness,
    alert_for,
    quick_report,
    said,
    says,
    write_config,
)

OFFICERS = (WANG, LI, QIAN, WU, ZHENG, GAO)
NOT_YOURS = "There is no incident #{number} that you may act on."
ACCEPT_BY = re.compile(r"Accept by (\d{4}-\d\d-\d\d \d\d:\d\d);")


@pytest.fixture
def config_path(tmp_path: Path, botapi: StandInBotApi, database_url: str) -> Path:
    """The test city on the one-stage clock these mechanism tests were written for."""
    return write_config(
        tmp_path, base_url=botapi.base_url, database_url=database_url, extra=MECHANISM_LEVELS
    )


async def test_quick_report_alerts_both_officers_on_duty_of_the_right_unit(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    await xu.send("/report Burst water main flooding Elm Street underpass")
    receipt = await xu.next_message()
    assert receipt.text.startswith("Received as #1.")
    wang, li = harness.user(WANG, "Wang"), harness.user(LI, "Li")
    for officer, language in ((wang, "zh"), (li, "en")):  # Wang reads Chinese (the roster)
        card = await alert_for(officer)
        assert "#1" in card.text and "Burst water main" in card.text
        assert any(says(language, "Accept") in label for label, _ in card.buttons())
    assert "Xu Tao" in botapi.messages_to(LI)[0].text
    await harness.quiet()
    # The leader on duty: the alert for information only (an unassessed report, [intake]
    # tell_leader), without Accept.
    [told] = botapi.messages_to(QIAN)
    assert told.reply_markup is None and told.text.startswith("🚨")
    assert not botapi.messages_to(WU)  # another unit's officer: never
    assert (await harness.incident(1)).state == "reported"


async def fill_form(
    harness: BotHarness,
    reporter: User,
    *,
    category: str = "Natural",
    level: str = "Level III",
    restart_after_level: bool = False,
) -> Sent:
    """Walk the guided form: returns the confirmation card (with Send / Cancel)."""
    await reporter.send("/report")
    question = await reporter.next_message()
    await reporter.press(question, category)
    question = await reporter.next_message()
    await reporter.press(question, level)
    where = await reporter.next_message()
    assert where.reply_markup and where.reply_markup["keyboard"][0][0]["request_location"]
    if restart_after_level:
        await harness.restart()
    await reporter.share_location(31.2304, 121.4737)
    await reporter.next_message()  # what happened?
    await reporter.send("Landslide blocking the river road\nTwo cars under debris")
    when = await reporter.next_message()  # when did it happen?
    await reporter.press(when, data="1:rw:hour")
    sensitive = await reporter.next_message()
    await reporter.press(sensitive, data="1:rs:no")
    await reporter.next_message()  # casualties?
    await reporter.send("0 2 0 1")
    await reporter.next_message()  # photos?
    await reporter.send_photo("PHOTO-landslide-1")
    done = await reporter.next_message()
    await reporter.press(done, "Done")
    confirm = await reporter.next_message()
    assert "Landslide blocking the river road" in confirm.text
    return confirm


async def test_guided_form_end_to_end_with_location_and_photo(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    confirm = await fill_form(harness, xu)
    await xu.press(confirm, "Send")
    assert (await xu.next_message()).text.startswith("Received as #1.")
    wang = harness.user(WANG, "Wang", "zh")
    card = await alert_for(wang)
    assert "openstreetmap.org/?mlat=31.23040&mlon=121.47370" in card.text
    assert "照片：1 张" in card.text  # Wang reads Chinese
    assert "受伤 2" in card.text and "被困 1" in card.text
    photo = await wang.next_message()
    assert photo.method == "sendPhoto" and photo.payload["photo"] == "PHOTO-landslide-1"
    row = await harness.incident(1)
    assert (row.category, row.level, row.injured, row.trapped) == ("natural", "III", 2, 1)
    assert row.attachments == ["PHOTO-landslide-1"]


async def test_guided_form_survives_a_restart_of_the_bot(harness: BotHarness) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    confirm = await fill_form(harness, xu, restart_after_level=True)
    await xu.press(confirm, "Send")
    assert (await xu.next_message()).text.startswith("Received as #1.")
    row = await harness.incident(1)
    assert (row.category, row.level, row.latitude) == ("natural", "III", 31.2304)


async def test_cancel_leaves_the_form_and_reports_nothing(harness: BotHarness) -> None:
    xu = harness.user(XU, "Xu")
    await xu.send("/report")
    await xu.next_message()
    await xu.send("/cancel")
    assert "cancelled" in (await xu.next_message()).text
    await xu.send("/myreports")
    assert "not reported anything" in (await xu.next_message()).text


async def test_two_officers_press_accept_at_the_same_moment(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Gas smell in building 5")
    wang, li = harness.user(WANG, "Wang", "en"), harness.user(LI, "Li")
    wang_card, li_card = await alert_for(wang), await alert_for(li)
    presses = [wang.press_update(wang_card, "接报"), li.press_update(li_card, "Accept")]
    await botapi.push_all(presses)
    answers = [await wang.answer_to(p["callback_query"]["id"]) for p in presses[:1]] + [
        await li.answer_to(presses[1]["callback_query"]["id"])
    ]
    texts = [a.get("text", "") for a in answers]
    winner = await harness.incident(number)
    assert winner.state == "accepted" and winner.assignee_id in ("wang.fang", "li.lei")
    name = "Wang Fang" if winner.assignee_id == "wang.fang" else "Li Lei"
    languages = ("zh", "en")  # Wang's roster language wins over his Telegram's
    accepted = "You have accepted #{number}. The initial report is due {time}."
    assert (
        sum(t.startswith(says(lang, accepted)) for lang, t in zip(languages, texts, strict=True))
        == 1
    )
    assert (
        sum(
            t == said(lang, "#{number} is already accepted by {name}.", number=number, name=name)
            for lang, t in zip(languages, texts, strict=True)
        )
        == 1
    ), texts
    await botapi.wait_until(lambda: name in wang_card.text and name in li_card.text)
    assert not wang_card.buttons() and not li_card.buttons()
    receipt = await xu.next_message()
    assert f"accepted by {name}" in receipt.text
    kinds = [e.kind for e in await harness.timeline(number)]
    assert kinds.count("incident.accepted") == 1


async def test_forged_or_foreign_accept_changes_nothing(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Manhole cover missing")
    query = await xu.press(botapi.messages_to(XU)[0], data=f"1:acc:{number}")
    answer = await xu.answer_to(query)
    assert "may not act" in answer["text"]
    wu = harness.user(WU, "Wu")  # another unit's officer: may not even see it
    await wu.send(f"/accept {number}")
    assert (await wu.next_message()).text == said("en", NOT_YOURS, number=number)
    stale = await xu.press(botapi.messages_to(XU)[0], data=f"0:acc:{number}")
    assert "no longer valid" in (await xu.answer_to(stale))["text"]
    row = await harness.incident(number)
    assert row.state == "reported" and row.assignee_id is None


async def test_transfer_by_button_alerts_the_other_unit_which_must_accept(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Chemical drums on the river bank")
    li = harness.user(LI, "Li")
    card = await alert_for(li)
    await li.press(card, "Transfer")
    choice = await li.next_message()
    await li.press(choice, "Emergency Bureau")
    assert "reason" in (await li.next_message()).text
    await li.send("hazardous materials are the emergency bureau's")
    assert "transferred to Emergency Bureau" in (await li.next_message()).text
    wu, zheng = harness.user(WU, "Wu"), harness.user(ZHENG, "Zheng")
    new_card = await alert_for(wu)
    await alert_for(zheng)
    assert "Transferred to Emergency Bureau" in card.text
    assert "transferred to Emergency Bureau" in (await xu.next_message()).text
    row = await harness.incident(number)
    assert (row.unit_id, row.state) == ("emergency", "reported")
    await wu.press(new_card, "Accept")
    await botapi.wait_until(lambda: "Accepted by Wu Gang" in new_card.text)
    row = await harness.incident(number)
    assert (row.state, row.assignee_id) == ("accepted", "wu.gang")
    events = await harness.timeline(number)
    transfer = next(e for e in events if e.kind == "incident.transferred")
    assert transfer.note == "hazardous materials are the emergency bureau's"


async def test_transfer_by_command_keeps_the_old_assignee_responsible_until_accepted(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Road subsidence on Route 9")
    wang = harness.user(WANG, "Wang", "en")
    await alert_for(wang)
    await wang.send(f"/accept {number}")
    assert "#" in (await wang.next_message()).text
    await wang.send(f"/transfer {number} emergency road belongs to the bureau")
    await wang.next_message()
    row = await harness.incident(number)
    assert (row.unit_id, row.state, row.assignee_id) == ("emergency", "reported", "wang.fang")
    await wang.send("/mine")
    assert "等待Emergency Bureau接报" in (await wang.next_message()).text
    wu = harness.user(WU, "Wu")
    await alert_for(wu)
    await wu.send(f"/accept {number}")
    await wu.next_message()
    assert "不再由您负责" in (await wang.next_message()).text


async def test_dismiss_asks_the_reason_records_it_and_tells_the_reporter(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Smoke from chimney")
    li = harness.user(LI, "Li")
    card = await alert_for(li)
    await li.press(card, "Dismiss")
    assert "reason" in (await li.next_message()).text
    await li.send("a licensed bonfire, checked by phone")
    assert "leader on duty for approval" in (await li.next_message()).text
    assert (await harness.incident(number)).state == "reported"  # nothing yet: the leader decides
    qian = harness.user(QIAN, "Qian")
    await alert_for(qian)  # for information, at intake
    request = await qian.next_message()
    assert "licensed bonfire" in request.text
    await qian.answer_to(await qian.press(request, "Approve"))
    told = await xu.next_message()
    assert "dismissed" in told.text and "licensed bonfire" in told.text
    row = await harness.incident(number)
    assert (row.state, row.closed_reason) == ("dismissed", "a licensed bonfire, checked by phone")
    await botapi.wait_until(lambda: "Dismissed by Qian Bo" in card.text)


async def test_duplicate_report_offers_merge_which_links_and_tells_the_reporter(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    await xu.press(await fill_form(harness, xu), "Send")
    await xu.next_message()
    li = harness.user(LI, "Li")
    await alert_for(li)
    await li.next_message()  # the photo
    await xu.press(await fill_form(harness, xu), "Send")
    await xu.next_message()
    second = await alert_for(li)
    assert "Possible duplicate of #1" in second.text
    await li.press(second, "Merge into #1")
    await botapi.wait_until(lambda: "Merged into #1" in second.text)
    row = await harness.incident(2)
    assert (row.state, row.duplicate_of) == ("merged", 1)
    messages = [m.text for m in botapi.messages_to(XU)]
    await botapi.wait_until(lambda: any("merged into it" in m.text for m in botapi.messages_to(XU)))
    assert messages


async def test_a_unit_without_officers_alerts_its_leader_and_logs_the_gap(
    harness: BotHarness, botapi: StandInBotApi, config_path: Path
) -> None:
    harness.open_chats(*OFFICERS)
    roster = config_path.parent / "roster.toml"
    text = roster.read_text()
    for position in ("officer", "backup"):
        text = text.replace(
            f'unit = "water"\nposition = "{position}"', 'unit = "water"\nposition = "head"'
        )
    roster.write_text(
        text.replace(
            'unit = "water"\nposition = "head"\npeople = ["wang.fang", "li.lei"]',
            'unit = "city"\nposition = "head"\npeople = ["wang.fang", "li.lei"]',
            1,
        ).replace(
            'unit = "water"\nposition = "head"\npeople = ["li.lei", "wang.fang"]',
            'unit = "city"\nposition = "head"\npeople = ["li.lei", "wang.fang"]',
            1,
        )
    )
    zhou = harness.user(ZHOU, "Zhou")
    await zhou.send("/roster reload")
    assert "reloaded" in (await zhou.next_message()).text
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Flooded cellar")
    qian = harness.user(QIAN, "Qian")
    card = await alert_for(qian)
    assert f"#{number}" in card.text
    kinds = [e.kind for e in await harness.timeline(number)]
    assert "routing.gap" in kinds


async def test_addinfo_and_captioned_photo_reach_the_assignee(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Tree fallen on power line")
    li = harness.user(LI, "Li")
    await alert_for(li)
    await li.send(f"/accept {number}")
    await li.next_message()
    await xu.next_message()  # accepted by Li Lei
    await xu.send(f"/addinfo {number} sparks visible, road closed by police")
    assert f"Added to #{number}" in (await xu.next_message()).text
    assert "sparks visible" in (await li.next_message()).text
    await xu.send_photo("PHOTO-tree", caption=f"#{number} from the north side")
    assert f"Added to #{number}" in (await xu.next_message()).text
    await li.next_message()
    photo = await li.next_message()
    assert photo.payload["photo"] == "PHOTO-tree"
    row = await harness.incident(number)
    assert row.attachments == ["PHOTO-tree"] and "sparks visible" in row.description
    await xu.send("/myreports")
    assert f"#{number} Tree fallen on power line — accepted" in (await xu.next_message()).text
    await li.send("/mine")
    mine = (await li.next_message()).text
    assert f"#{number}" in mine and "initial report due 2026-11-27 15:00" in mine


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu, ma = harness.user(XU, "Xu"), harness.user(MA, "Ma")
    await xu.send("/report " + "x" * 5000)
    assert "too long" in (await xu.next_message()).text
    await xu.send("/report")
    assert "What kind of emergency" in (await xu.next_message()).text
    await xu.send("/cancel")
    await xu.next_message()
    number = await quick_report(harness, xu, "Stray cattle on the highway")
    await ma.send(f"/addinfo {number} not mine but I saw it")
    assert "only to your own reports" in (await ma.next_message()).text
    li = harness.user(LI, "Li")
    await alert_for(li)
    await li.send("/accept abc")
    assert "Usage: /accept" in (await li.next_message()).text
    await li.send("/accept 999")
    assert (await li.next_message()).text == said("en", NOT_YOURS, number=999)
    await li.send("/transfer 1 nowhere why")
    assert "no unit with the id nowhere" in (await li.next_message()).text
    await li.send("/frobnicate 1")
    assert "do not know that command" in (await li.next_message()).text
    row = await harness.incident(number)
    assert (row.state, row.description) == ("reported", "Stray cattle on the highway")
    await li.send(f"/accept {number}")
    assert f"You have accepted #{number}" in (await li.next_message()).text


async def pending_accept(harness: BotHarness, number: int) -> Deadline:
    """The one accept deadline of incident ``number`` still pending."""
    rows = await harness.rows(Deadline, incident_id=number, kind="accept", state="pending")
    assert len(rows) == 1, rows
    return rows[0]


async def test_after_a_transfer_the_new_units_card_promises_the_deadline_it_enforces(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Oil slick on the reservoir")
    li = harness.user(LI, "Li")
    await alert_for(li)
    harness.clock.advance(timedelta(minutes=7))
    await li.send(f"/transfer {number} emergency oil is the bureau's")
    await li.next_message()
    card = await alert_for(harness.user(WU, "Wu"))
    match = ACCEPT_BY.search(card.text)
    assert match is not None, card.text
    assert harness.runtime is not None
    tz = harness.runtime.settings.timezone
    deadline = await pending_accept(harness, number)
    assert match.group(1) == local_time(deadline.due_at, tz) == "2026-11-27 14:17"


async def test_changing_the_level_after_a_transfer_keeps_the_new_units_accept_clock(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Gas cylinder leaking at the market")
    li = harness.user(LI, "Li")
    await alert_for(li)
    harness.clock.advance(timedelta(minutes=7))
    await li.send(f"/transfer {number} emergency gas is the bureau's")
    await li.next_message()
    wu = harness.user(WU, "Wu")
    await alert_for(wu)
    await wu.send(f"/level {number} II")  # the new unit's officer, before accepting
    assert "Level II (serious)" in (await wu.next_message()).text
    assert harness.runtime is not None
    tz = harness.runtime.settings.timezone
    # level II gives 5 minutes to accept, counted from the transfer at 14:07, not the report
    assert local_time((await pending_accept(harness, number)).due_at, tz) == "2026-11-27 14:12"
    assert await harness.advance(timedelta(minutes=3)) == 0  # 14:10: nothing is late yet
    assert (await pending_accept(harness, number)).due_at is not None


async def test_the_next_rung_alerted_for_a_unit_with_nobody_on_duty_can_accept(
    harness: BotHarness, botapi: StandInBotApi, config_path: Path
) -> None:
    harness.open_chats(*OFFICERS, CHEN)
    roster = config_path.parent / "roster.toml"
    # nobody in the water authority's officer, backup or leader positions: a gap to the city
    text = re.sub(r'\[\[rotations\]\]\nunit = "water"\n(?:.+\n)+\n?', "", roster.read_text())
    roster.write_text(text)
    zhou = harness.user(ZHOU, "Zhou")
    await zhou.send("/roster reload")
    assert "reloaded" in (await zhou.next_message()).text
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Sewage overflowing on Pine Road")
    chen = harness.user(CHEN, "Chen")  # the city desk's officer, not the water authority's
    card = await alert_for(chen)
    query = await chen.press(card, "Accept")
    answer = await chen.answer_to(query)
    assert answer["text"].startswith(says("en", "You have accepted #{number}."))
    row = await harness.incident(number)
    assert (row.state, row.assignee_id) == ("accepted", "chen.jing")
    await botapi.wait_until(lambda: "Accepted by Chen Jing" in card.text)


async def test_someone_who_may_not_see_an_incident_cannot_tell_it_from_a_missing_one(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Fallen scaffolding on Oak Lane")
    wu = harness.user(WU, "Wu")
    for command in ("/accept {}", "/dismiss {} not real", "/level {} II", "/drill {}"):
        answers = []
        for asked in (number, 999):
            await wu.send(command.format(asked))
            answers.append((await wu.next_message()).text.replace(f"#{asked}", "#N"))
        assert answers[0] == answers[1] == said("en", NOT_YOURS, number="N")
    forged = [await wu.press(botapi.messages_to(XU)[0], data=f"1:acc:{n}") for n in (number, 999)]
    toasts = [(await wu.answer_to(q))["text"] for q in forged]
    assert toasts[0].replace(f"#{number}", "#N") == toasts[1].replace("#999", "#N")
    assert (await harness.incident(number)).state == "reported"


async def test_a_reason_asked_before_a_restart_is_taken_after_it(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(*OFFICERS)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Loud bang near the dam")
    li = harness.user(LI, "Li")
    card = await alert_for(li)
    await li.press(card, "Dismiss")
    assert (await li.next_message()).text == said(
        "en", "Send the reason for dismissing #{number} (or /cancel).", number=number
    )
    await harness.restart()
    await li.send("fireworks, announced by the town")
    assert (await li.next_message()).text == said(  # an officer's dismissal needs the leader
        "en",
        "#{number}: sent to the leader on duty for approval; nothing changes until it is approved.",
        number=number,
    )
    await li.send("/cancel")
    assert (await li.next_message()).text == said("en", "There is nothing to cancel.")


async def test_followers_count_the_transactions_own_changes_without_flushing_them(
    harness: BotHarness,
) -> None:
    # A filed report's new deadlines wait for the commit's one flush: asking who follows the
    # unit must not flush them, yet must see a follow started or stopped in the transaction.
    assert harness.runtime is not None
    now = harness.clock.now()
    async with harness.runtime.database.transaction() as session:
        session.add(Follow(person_id="zhou.hua", unit_id="water", since=now))
    async with harness.runtime.database.sessions() as session:
        session.add(Follow(person_id="chen.jing", unit_id="water", since=now))
        pending = set(session.new)
        assert set(await followers(session, "water")) == {"zhou.hua", "chen.jing"}
        assert set(session.new) == pending
        session.add(Follow(person_id="chen.jing", unit_id="city", since=now))
        await session.flush()
        await session.delete(await session.get(Follow, ("chen.jing", "city")))
        assert set(await followers(session, "water")) == {"zhou.hua", "chen.jing"}  # another unit
        await session.delete(await session.get(Follow, ("zhou.hua", "water")))
        assert await followers(session, "water") == ["chen.jing"]
