"""Where and how to reach people: their Telegram chats, their language, whether the bot can
message them. Read by every message the bot sends unasked (``bot.delivery.notify``) and by the
identification of every update.

What the ``people`` and ``telegram_accounts`` tables say is kept in memory (the roster's
people are few; ``bot.db.remembered``): read again after any transaction of this process that
wrote to either table (``sync_roster`` at ``/roster reload``, a link, ``/lang``, a 403), and at
least every 30 seconds (a write by another process).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import PersonRow, TelegramAccount
from bot.db.remembered import Remembered
from bot.duty_table import Reachability
from bot.i18n import pick_language
from bot.roster import Roster


@dataclass(frozen=True)
class People:
    """The two tables as read at one moment."""

    linked: dict[str, int]  # person → linked Telegram id
    chosen: dict[str, str | None]  # person → their /lang choice
    unreachable: frozenset[str]


async def _read(session: AsyncSession) -> People:
    result = await session.execute(select(TelegramAccount.person_id, TelegramAccount.telegram_id))
    linked = {person_id: telegram_id for person_id, telegram_id in result}
    rows = await session.execute(
        select(PersonRow.id, PersonRow.chosen_language, PersonRow.unreachable_since)
    )
    chosen, unreachable = {}, set()
    for person_id, language, since in rows:
        chosen[person_id] = language
        if since is not None:
            unreachable.add(person_id)
    return People(linked, chosen, frozenset(unreachable))


_PEOPLE = Remembered("directory", (PersonRow, TelegramAccount), _read)


async def people(session: AsyncSession) -> People:
    """Linked accounts, language choices and who is unreachable: from memory when fresh."""
    return await _PEOPLE.get(session)


async def telegram_ids(session: AsyncSession, roster: Roster) -> dict[str, int]:
    """Every person's Telegram account: the roster's, else the linked one."""
    linked = (await people(session)).linked
    out = {pid: tid for pid, tid in linked.items() if pid in roster.people}
    out.update({p.id: p.telegram_id for p in roster.people.values() if p.telegram_id is not None})
    return out


async def reachability(session: AsyncSession, roster: Roster) -> Reachability:
    """Who has a Telegram account the bot knows, and who could not be messaged."""
    linked = frozenset((await telegram_ids(session, roster)).keys())
    unreachable = (await people(session)).unreachable
    return Reachability(known=True, linked=linked, unreachable=unreachable)


async def person_for_chat(session: AsyncSession, roster: Roster, chat_id: int) -> str | None:
    """The person whose private chat this is, if any."""
    for person_id, telegram_id in (await telegram_ids(session, roster)).items():
        if telegram_id == chat_id:
            return person_id
    return None


async def languages(
    session: AsyncSession, roster: Roster, person_ids: list[str], default: str
) -> dict[str, str]:
    """Each person's language for messages they did not ask for (alerts, notifications)."""
    if not person_ids:
        return {}
    chosen = (await people(session)).chosen
    out = {}
    for person_id in person_ids:
        person = roster.people.get(person_id)
        roster_language = person.language if person else None
        out[person_id] = pick_language(
            chosen=chosen.get(person_id), roster=roster_language, telegram=None, default=default
        )
    return out
