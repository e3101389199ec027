"""Where and how to reach people: their Telegram chats, their language, whether the bot can
message them. Read by every message the bot sends unasked (``bot.delivery.notify``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import PersonRow, TelegramAccount
from bot.duty_table import Reachability
from bot.i18n import pick_language
from bot.roster import Roster


async def telegram_ids(session: AsyncSession, roster: Roster) -> dict[str, int]:
    """Every person's Telegram account: the roster's, else the linked one."""
    result = await session.execute(select(TelegramAccount.person_id, TelegramAccount.telegram_id))
    linked = {person_id: telegram_id for person_id, telegram_id in result}
    out = {pid: tid for pid, tid in linked.items() if pid in roster.people}
    out.update({p.id: p.telegram_id for p in roster.people.values() if p.telegram_id is not None})
    return out


async def reachability(session: AsyncSession, roster: Roster) -> Reachability:
    """Who has a Telegram account the bot knows, and who could not be messaged."""
    linked = frozenset((await telegram_ids(session, roster)).keys())
    unreachable = frozenset(
        await session.scalars(select(PersonRow.id).where(PersonRow.unreachable_since.is_not(None)))
    )
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
    rows = await session.execute(
        select(PersonRow.id, PersonRow.chosen_language).where(PersonRow.id.in_(person_ids))
    )
    chosen = {person_id: language for person_id, language in rows}
    out = {}
    for person_id in person_ids:
        person = roster.people.get(person_id)
        roster_language = person.language if person else None
        out[person_id] = pick_language(
            chosen=chosen.get(person_id), roster=roster_language, telegram=None, default=default
        )
    return out
