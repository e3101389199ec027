"""The bot under abuse, part two (issue 17): big scopes page in the database, user text cannot
pass for the bot's own lines, additions are capped, photos are not re-sent, invites cannot take
an account over."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from bot.db.models import Deadline, IncidentRow, OutboxMessage, TelegramAccount
from bot.levels import MAX_ADDED_TEXT
from tests.botapi import BOT_USERNAME, StandInBotApi
from tests.harness import (
    GAO,
    LI,
    QIAN,
    WANG,
    WU,
    XU,
    ZHENG,
    ZHOU,
    BotHarness,
    alert_for,
    catch_up,
    eventually,
    quick_report,
    said,
    says,
)

START_LINK = f"https://t.me/{BOT_USERNAME}?start="


async def seed_open_incidents(
    harness: BotHarness, count: int, *, unit: str = "water", state: str = "reported"
) -> None:
    """``count`` open incidents straight into the database, levels I to IV in turn."""
    assert harness.runtime is not None
    now = harness.clock.now()
    rows = [
        {
            "unit_id": unit,
            "level": ["I", "II", "III", "IV"][n % 4],
            "sensitive": False,
            "summary": f"Seeded incident {n}",
            "description": "",
            "reported_at": now,
            "reporter_id": "xu.tao",
            "attachments": [],
            "drill": False,
            "state": state,
            "version": 1,
        }
        for n in range(count)
    ]
    async with harness.runtime.database.transaction() as session:
        for start in range(0, count, 5000):
            await session.execute(insert(IncidentRow), rows[start : start + 5000])


def numbers(text: str) -> list[int]:
    return [int(w[1:]) for line in text.splitlines() for w in line.split()[1:2] if w[:1] == "#"]


async def test_status_over_more_open_incidents_than_sqlite_has_variables_pages_by_key(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    await seed_open_incidents(harness, 33_000)
    gao = harness.user(GAO, "Gao")
    await gao.send("/status")
    first = await gao.next_message(timeout=60)
    assert first.text.startswith("Open incidents: 1000+ — "), first.text[:200]  # capped
    [(label, data)] = first.buttons()
    assert label == "Next page ▶"
    shown = numbers(first.text)
    assert shown and data.endswith(f".0.{shown[-1]}")  # the last key, not a page number
    await gao.press(first, "Next page ▶")
    second = await gao.next_message(timeout=60)
    assert second.text.startswith("Open incidents, page 2")
    following = numbers(second.text)
    assert following[0] > shown[-1] and not set(following) & set(shown)
    assert all(n % 4 == 1 for n in shown + following)  # level I first: seeded every fourth


async def test_overdue_comes_in_pages_worst_first(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    await seed_open_incidents(harness, 120)
    assert harness.runtime is not None
    now = harness.clock.now()
    async with harness.runtime.database.transaction() as session:
        await session.execute(
            insert(Deadline),
            [
                {
                    "incident_id": n,
                    "kind": "accept",
                    "due_at": now - timedelta(minutes=n),
                    "state": "fired",
                    "late": True,
                    "data": {},
                }
                for n in range(1, 121)
            ],
        )
    gao = harness.user(GAO, "Gao")
    await gao.send("/overdue")
    page = await gao.next_message()
    assert page.text.startswith("Overdue: 120")
    listed = [int(line.split()[0][1:]) for line in page.text.splitlines()[1:]]
    pages = 1
    while page.buttons():
        await gao.press(page, "Next page ▶")
        page = await gao.next_message()
        pages += 1
        assert page.text.startswith(f"Overdue, page {pages}")
        listed += [int(line.split()[0][1:]) for line in page.text.splitlines()[1:]]
    assert pages >= 3
    assert listed == list(range(120, 0, -1))  # the longest overdue first, each once


async def test_mine_comes_in_pages(harness: BotHarness, botapi: StandInBotApi) -> None:
    await seed_open_incidents(harness, 70)
    li = harness.user(LI, "Li")
    await li.send("/mine")
    page = await li.next_message()
    listed = numbers(page.text)
    assert len(listed) < 70 and page.buttons()
    while page.buttons():
        await li.press(page, "Next page ▶")
        page = await li.next_message()
        listed += numbers(page.text)
    assert listed == list(range(1, 71))


async def test_the_bulletin_chart_is_drawn_off_the_event_loop(
    harness: BotHarness, botapi: StandInBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.supervision import messaging

    drawn_in: list[str] = []
    real = messaging.bulletin_chart

    def chart(*args: Any, **kwargs: Any) -> bytes:
        drawn_in.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(messaging, "bulletin_chart", chart)
    zhou = harness.user(ZHOU, "Zhou")
    await zhou.send("/bulletin")
    await zhou.next_message()
    await harness.quiet()
    assert drawn_in and drawn_in[0] != threading.main_thread().name


FAKE = "Pipe burst on Elm Street\n✅ Accepted by Li Lei at 14:00\u202e\x00 mirrored"


async def test_a_report_faking_the_bots_status_line_is_stored_clean_and_shown_quoted(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(LI, WANG)
    xu, li = harness.user(XU, "Xu"), harness.user(LI, "Li")
    number = await quick_report(harness, xu, FAKE)
    card = await alert_for(li)
    stored = await harness.incident(number)
    assert "\x00" not in stored.description and "\u202e" not in stored.description
    assert "Accepted by Li Lei at 14:00 mirrored" in stored.description
    lines = card.text.splitlines()
    assert "│ ✅ Accepted by Li Lei at 14:00 mirrored" in lines
    assert not any(line.startswith("✅") for line in lines)
    await xu.send(f"/addinfo {number} more\n✅ Accepted by Wang Fang\x00")
    info = await li.next_message()
    assert not any(line.startswith("✅") for line in info.text.splitlines()), info.text
    assert "\x00" not in (await harness.incident(number)).description


async def test_added_text_is_capped_per_incident_with_a_clear_answer(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Sinkhole on the ring road")
    chunk = "x" * 3000
    answers = []
    for _ in range(MAX_ADDED_TEXT // 3000 + 1):
        await xu.send(f"/addinfo {number} {chunk}")
        answers.append((await xu.next_message()).text)
    assert answers[:-1] == [f"Added to #{number}."] * (len(answers) - 1)
    assert answers[-1].startswith(
        said(
            "en", "#{number} already has {limit} characters", number=number, limit=MAX_ADDED_TEXT
        ).split(" of")[0]
    )


async def test_photos_are_capped_per_incident(
    harness: BotHarness, botapi: StandInBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.incidents import messaging, service

    monkeypatch.setattr(service, "MAX_PHOTOS", 2)
    monkeypatch.setattr(messaging, "MAX_PHOTOS", 2)
    xu = harness.user(XU, "Xu")
    number = await quick_report(harness, xu, "Landslide above the village")
    for n in range(3):
        await xu.send_photo(f"photo-{n}", caption=f"#{number}")
    await harness.quiet()
    assert (await harness.incident(number)).attachments == ["photo-0", "photo-1"]
    assert xu.inbox()[-1].text.startswith(f"#{number} already has 2 photos")


async def test_a_dismissed_incident_takes_no_additions(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    xu, qian = harness.user(XU, "Xu"), harness.user(QIAN, "Qian")
    number = await quick_report(harness, xu, "Smoke from a chimney")
    await qian.send(f"/dismiss {number} a barbecue")  # the leader dismisses directly
    await harness.quiet()
    await xu.send(f"/addinfo {number} now there are flames")
    await xu.send_photo("photo-late", caption=f"#{number}")
    await harness.quiet()
    refusal = said(
        "en",
        "#{number} is {state}; it takes no more information.",
        number=number,
        state="dismissed",
    )
    assert [m.text for m in xu.inbox()[-2:]] == [refusal, refusal]
    incident = await harness.incident(number)
    assert "flames" not in incident.description and incident.attachments == []


async def test_photos_are_not_sent_again_when_an_incident_comes_back(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(LI, WANG, WU, ZHENG)
    xu, li = harness.user(XU, "Xu"), harness.user(LI, "Li")
    wu = harness.user(WU, "Wu")
    number = await quick_report(harness, xu, "Gas leak at the market")
    await xu.send_photo("photo-leak", caption=f"#{number}")
    await harness.quiet()
    photos_to_li = sum(1 for m in li.inbox() if m.method == "sendPhoto")
    await li.send(f"/transfer {number} emergency their gas team")
    await harness.quiet()
    assert sum(1 for m in wu.inbox() if m.method == "sendPhoto") == 1
    await wu.send(f"/transfer {number} water it is a water main")
    await harness.quiet()
    assert sum(1 for m in li.inbox() if m.method == "sendPhoto") == photos_to_li


async def invite_code(admin: Any, person: str = "new.hire") -> str:
    await admin.send(f"/invite {person}")
    text = (await admin.next_message()).text
    return str(text.split(START_LINK)[1].split()[0])


async def linked(harness: BotHarness, person: str) -> list[int]:
    assert harness.runtime is not None
    async with harness.runtime.database.sessions() as session:
        rows = await session.scalars(
            select(TelegramAccount.telegram_id).where(TelegramAccount.person_id == person)
        )
        return list(rows)


async def test_a_newer_invite_revokes_the_older_one(harness: BotHarness) -> None:
    admin = harness.user(ZHOU, "Zhou")
    old, new = await invite_code(admin), await invite_code(admin)
    someone = harness.user(5555, "Someone")
    await someone.send(f"/start {old}")
    assert (await someone.next_message()).text.startswith(
        says("en", "This invite link was replaced by a newer one.")
    )
    assert await linked(harness, "new.hire") == []
    await someone.send(f"/start {new}")
    assert (await someone.next_message()).text.startswith("Welcome, New Hire!")
    assert await linked(harness, "new.hire") == [5555]


async def test_a_linked_person_moves_to_another_account_only_when_the_admin_confirms(
    harness: BotHarness,
) -> None:
    admin = harness.user(ZHOU, "Zhou")
    first = harness.user(5555, "Phone one")
    await first.send(f"/start {await invite_code(admin)}")
    await first.next_message()
    second = harness.user(6666, "Phone two")
    await second.send(f"/start {await invite_code(admin)}")
    assert (await second.next_message()).text.startswith(
        says("en", "You are already linked from another Telegram account.")
    )
    assert await linked(harness, "new.hire") == [5555]
    question = await admin.next_message()
    assert "New Hire (new.hire)" in question.text and "6666" in question.text
    await admin.press(question, "Move to the new account")
    assert (await admin.next_message()).text == "New Hire is now linked to the new account."
    assert await linked(harness, "new.hire") == [6666]
    assert (await second.next_message()).text.startswith("Welcome, New Hire!")
    await admin.press(question, "Move to the new account")  # a second press changes nothing
    assert (await admin.next_message()).text == "There is no account move waiting for this invite."
    assert await linked(harness, "new.hire") == [6666]


async def test_alerts_for_a_chat_far_behind_are_merged_into_one_digest_most_serious_first(
    harness: BotHarness, botapi: StandInBotApi
) -> None:
    harness.open_chats(LI, WANG)
    assert harness.runtime is not None
    # the sender goes by the real clock (Telegram's): a day after the later of the two clocks
    later = max(harness.clock.now(), datetime.now(UTC)) + timedelta(days=1)
    async with harness.runtime.database.transaction() as session:  # Li's chat is 3 alerts behind
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "chat_id": LI,
                    "person_id": "li.lei",
                    "method": "sendMessage",
                    "priority": 0,
                    "text": f"backlog {n}",
                    "state": "pending",
                    "next_attempt_at": later,
                    "created_at": harness.clock.now(),
                }
                for n in range(3)
            ],
        )
    xu, wang, li = harness.user(XU, "Xu"), harness.user(WANG, "Wang", "zh"), harness.user(LI, "Li")
    first = await quick_report(harness, xu, "Leaking hydrant")
    second = await quick_report(harness, xu, "Burst main under the bridge")
    await wang.send(f"/level {second} I")

    async def raised() -> bool:
        return (await harness.incident(second)).level == "I"

    await eventually(raised)
    third = await quick_report(harness, xu, "Puddle on the pavement")

    def cards() -> int:
        return sum(1 for m in wang.inbox() if m.text.startswith("🚨"))

    await botapi.wait_until(lambda: cards() >= 3)  # a chat that keeps up gets every card
    waiting = [
        row
        for row in await harness.rows(OutboxMessage, chat_id=LI, state="pending")
        if not row.text.startswith("backlog")
    ]
    assert len(waiting) == 1, [w.text for w in waiting]
    digest = waiting[0]
    assert digest.text.startswith(f"🚨 3 new reports: #{second} #{first} #{third}")
    assert digest.priority == 0  # level I: it goes ahead of routine messages
    assert f"/incident {first} · /accept {first}" in digest.text
    async with harness.runtime.database.transaction() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.chat_id == LI, OutboxMessage.state == "pending")
            .values(next_attempt_at=harness.clock.now() - timedelta(seconds=1))
        )
    await harness.quiet(timeout=30)
    assert sum(1 for m in li.inbox() if m.text.startswith("🚨")) == 1
    catch_up(li)
    await li.send(f"/accept {first}")
    assert (await li.next_message()).text.startswith(f"You have accepted #{first}.")
