"""Where and how to reach people: their Telegram chats, their language, whether the bot can
message them. Read by every message the bot sends unasked (``bot.delivery.notify``) and by the
identification of every update.

What the ``people`` and ``telegram_accounts`` tables say is kept in memory (the roster's
people are few) and read again after any transaction of this process that wrote to either table
commits (``sync_roster`` at ``/roster reload``, a link, ``/lang``, a 403), and at least every
``FRESH_FOR`` seconds (a write by another process). A transaction that wrote to them reads
them from the database until it ends, so it sees its own writes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction

from bot.db.models import PersonRow, TelegramAccount
from bot.duty_table import Reachability
from bot.i18n import pick_language
from bot.roster import Roster

FRESH_FOR = 30.0
TABLES = frozenset({PersonRow.__tablename__, TelegramAccount.__tablename__})
WROTE = "dutybot.directory.wrote"


@dataclass(frozen=True)
class People:
    """The two tables as read at one moment."""

    linked: dict[str, int]  # person → linked Telegram id
    chosen: dict[str, str | None]  # person → their /lang choice
    unreachable: frozenset[str]
    read_at: float = field(default_factory=time.monotonic)


class _Cache:
    generation = 0  # moves on every committed write: a read begun before it is not kept
    people: People | None = None


def forget() -> None:
    """Read the tables again at the next use."""
    _Cache.generation += 1
    _Cache.people = None


@event.listens_for(Session, "do_orm_execute")
def _statement(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in TABLES:
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _flush: UOWTransaction) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(row, PersonRow | TelegramAccount) for row in changed):
        session.info[WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.pop(WROTE, False):
        forget()  # committed or not: read again


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


async def people(session: AsyncSession) -> People:
    """Linked accounts, language choices and who is unreachable: from memory when fresh."""
    if session.sync_session.info.get(WROTE):
        return await _read(session)  # this transaction's own writes are not committed yet
    cached = _Cache.people
    if cached is not None and time.monotonic() - cached.read_at < FRESH_FOR:
        return cached
    generation = _Cache.generation
    fresh = await _read(session)
    if generation == _Cache.generation:
        _Cache.people = fresh
    return fresh


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
