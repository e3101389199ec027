"""``notify``, the one way to tell people something: each person in their own language, the
message rendered once per language, and who could not be told said so."""

from __future__ import annotations

from sqlalchemy import select

from bot.db.models import OutboxMessage
from bot.delivery.notify import notify
from bot.i18n import Translator
from tests.harness import LI, WANG, XU, BotHarness


async def test_each_person_gets_their_language_rendered_once_per_language(
    harness: BotHarness,
) -> None:
    runtime = harness.runtime
    assert runtime is not None
    rendered: list[str] = []

    def render(tr: Translator) -> str:
        rendered.append(tr.language)
        return f"in {tr.language}"

    def markup(tr: Translator) -> dict[str, object]:
        return markup_of(tr.language)

    people = ["li.lei", "wang.fang", "xu.tao", "new.hire", "li.lei"]  # Wang reads zh
    async with runtime.database.transaction() as session:
        told = await notify(session, runtime.audience, people, render, markup=markup)
    assert sorted(rendered) == ["en", "zh"]  # three people told, two languages
    assert told.told == ["li.lei", "wang.fang", "xu.tao"]  # each once, in the order given
    assert told.unlinked == ["new.hire"]  # no Telegram account
    async with runtime.database.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    got = {row.chat_id: (row.text, row.reply_markup) for row in rows if row.text.startswith("in ")}
    assert {chat: text for chat, (text, _) in got.items()} == {
        LI: "in en",
        WANG: "in zh",
        XU: "in en",
    }
    assert got[WANG][1] == markup_of("zh") and got[LI][1] == markup_of("en")


def markup_of(language: str) -> dict[str, object]:
    """The buttons the test's ``markup`` gives for ``language``."""
    return {"inline_keyboard": [[{"text": language, "callback_data": "x"}]]}
