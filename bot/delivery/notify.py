"""The one way to tell people something: "send this message to these people, each in their
language, with this priority".

``notify`` looks up accounts and languages once per call (not once per recipient), renders the
message once per language (not once per recipient), queues one outbox row per reachable person
in the caller's transaction, and says who was told and who could not be (no linked account, or
known unreachable).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import OutboxMessage
from bot.delivery.outbox import ROUTINE, enqueue, enqueue_document, enqueue_photo
from bot.directory import languages, reachability, telegram_ids
from bot.i18n import Translator, translator
from bot.roster import Roster

Render = Callable[[Translator], str]
Markup = Callable[[Translator], dict[str, Any] | None]


@dataclass(frozen=True)
class Audience:
    """Who is being told and how: the roster and the default language."""

    roster: Roster
    default_language: str


@dataclass
class Notified:
    """What ``notify`` queued: who was told, who was not, and each person's card."""

    told: list[str] = field(default_factory=list)
    unlinked: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    cards: dict[str, OutboxMessage] = field(default_factory=dict)
    chats: dict[str, int] = field(default_factory=dict)

    @property
    def skipped(self) -> list[str]:
        """Everyone who could not be told."""
        return self.unlinked + self.unreachable


async def notify(
    session: AsyncSession,
    audience: Audience,
    people: Iterable[str | None],
    render: Render,
    *,
    priority: int = ROUTINE,
    markup: Markup | None = None,
    photos: Iterable[str] = (),
    photo_caption: str = "",
    documents: Iterable[str] = (),
    skip_unreachable: bool = False,
) -> Notified:
    """Queue ``render`` (and ``markup``, ``photos`` and ``documents`` by Telegram file id) for
    each person, in their language.

    Each person is told at most once, in the order given. With ``skip_unreachable``, people the
    bot could not message lately are skipped (an escalation must not wait on them).
    """
    wanted = [p for p in dict.fromkeys(people) if p is not None]
    out = Notified()
    if not wanted:
        return out
    accounts = await telegram_ids(session, audience.roster)
    langs = await languages(session, audience.roster, wanted, audience.default_language)
    blocked = (
        (await reachability(session, audience.roster)).unreachable
        if skip_unreachable
        else frozenset()
    )
    pictures, files = list(photos), list(documents)
    rendered: dict[str, tuple[str, dict[str, Any] | None]] = {}  # language → text, buttons
    for person in wanted:
        chat = accounts.get(person)
        if chat is None:
            out.unlinked.append(person)
            continue
        if person in blocked:
            out.unreachable.append(person)
            continue
        language = langs[person]
        if language not in rendered:
            tr = translator(language)
            rendered[language] = (render(tr), markup(tr) if markup is not None else None)
        text, buttons = rendered[language]
        *_, card = enqueue(
            session, chat, text, person_id=person, priority=priority, reply_markup=buttons
        )
        for photo in pictures:
            enqueue_photo(session, chat, photo, photo_caption, person_id=person, priority=priority)
        for document in files:
            enqueue_document(
                session, chat, document, "", photo_caption, person_id=person, priority=priority
            )
        out.told.append(person)
        out.cards[person] = card
        out.chats[person] = chat
    return out


def to_chat(
    session: AsyncSession,
    chat_id: int,
    language: str,
    render: Render,
    *,
    priority: int = ROUTINE,
    markup: Markup | None = None,
) -> OutboxMessage:
    """Queue a message to a chat that is not a person (a unit's duty group)."""
    tr = translator(language)
    *_, card = enqueue(
        session,
        chat_id,
        render(tr),
        priority=priority,
        reply_markup=markup(tr) if markup is not None else None,
    )
    return card
