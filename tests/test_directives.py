"""Scenarios: directives (督办, SPEC §3.6) — issued by the form, received, answered, extended,
reviewed, escalated when not received, instructions on an incident — through the stand-in Bot
API with a fake clock, in English and Chinese."""

from __future__ import annotations

from datetime import timedelta

from bot.db.models import DirectiveRow
from tests.botapi import Sent, User
from tests.harness import CHEN, GAO, LI, QIAN, SUN, WANG, WU, XU, ZHOU, BotHarness, says


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
