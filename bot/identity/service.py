"""Who is who: roster people in the database, linked Telegram accounts, invite codes, language."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import directory
from bot.db.models import InviteCode, PersonRow, TelegramAccount, UnitRow
from bot.roster import Person, Roster
from bot.timeline import record_event

INVITE_CODE_BYTES = 18  # 24 URL-safe characters: deep-link payloads allow up to 64


def hash_code(code: str) -> str:
    """The stored form of an invite code."""
    return hashlib.sha256(code.encode()).hexdigest()


async def sync_roster(session: AsyncSession, roster: Roster, at: datetime) -> None:
    """Make the units and people tables match the roster; keep rows the roster no longer names."""
    units = {u.id: u for u in await session.scalars(select(UnitRow))}
    for unit in roster.units.values():
        row = units.get(unit.id) or UnitRow(id=unit.id)
        row.name, row.parent_id, row.duty_chat, row.in_roster = (
            unit.name,
            unit.parent,
            unit.duty_chat,
            True,
        )
        session.add(row)
    for unit_id, row in units.items():
        if unit_id not in roster.units:
            row.in_roster = False
    await session.flush()
    people = {p.id: p for p in await session.scalars(select(PersonRow))}
    for person in roster.people.values():
        prow = people.get(person.id) or PersonRow(id=person.id)
        prow.name, prow.unit_id, prow.in_roster = person.name, person.unit, True
        prow.roles = " ".join(sorted(person.roles))
        session.add(prow)
    for person_id, prow in people.items():
        if person_id not in roster.people:
            prow.in_roster = False
    record_event(
        session, at=at, kind="roster.loaded", units=len(roster.units), people=len(roster.people)
    )


@dataclass(frozen=True)
class Identity:
    """A roster person behind a Telegram account, and their own language choice."""

    person: Person
    chosen_language: str | None
    unreachable: bool = False


async def identify(session: AsyncSession, roster: Roster, telegram_id: int) -> Identity | None:
    """The roster person using this Telegram account: the roster's id first, else a linked one
    (accounts and language choices from ``bot.directory``'s memory)."""
    known = await directory.people(session)
    person = next((p for p in roster.people.values() if p.telegram_id == telegram_id), None)
    if person is None:
        linked = next((p for p, t in known.linked.items() if t == telegram_id), None)
        person = roster.people.get(linked) if linked else None
    if person is None:
        return None
    return Identity(person, known.chosen.get(person.id), person.id in known.unreachable)


async def set_language(session: AsyncSession, person_id: str, language: str, at: datetime) -> None:
    """Remember a person's ``/lang`` choice."""
    await session.execute(
        update(PersonRow).where(PersonRow.id == person_id).values(chosen_language=language)
    )
    record_event(
        session,
        at=at,
        kind="person.language",
        actor=person_id,
        subject=f"person:{person_id}",
        language=language,
    )


async def create_invite(
    session: AsyncSession, *, person_id: str, created_by: str, at: datetime, valid_for: timedelta
) -> tuple[str, datetime]:
    """Make a one-time code for ``person_id``; return the code (shown once) and its expiry."""
    code = secrets.token_urlsafe(INVITE_CODE_BYTES)
    expires = at + valid_for
    await session.execute(  # older unused invites for the person stop working
        update(InviteCode)
        .where(
            InviteCode.person_id == person_id,
            InviteCode.used_at.is_(None),
            InviteCode.revoked_at.is_(None),
        )
        .values(revoked_at=at)
    )
    invite = InviteCode(
        code_hash=hash_code(code),
        person_id=person_id,
        created_by=created_by,
        created_at=at,
        expires_at=expires,
    )
    session.add(invite)
    await session.flush()
    record_event(
        session,
        at=at,
        kind="invite.created",
        actor=created_by,
        subject=f"person:{person_id}",
        invite=invite.id,
        expires_at=expires.isoformat(),
    )
    return code, expires


class RedeemOutcome(Enum):
    """What happened to an invite code."""

    LINKED = "linked"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    ACCOUNT_TAKEN = "account_taken"
    PERSON_GONE = "person_gone"
    REVOKED = "revoked"  # a newer invite for the person replaced it
    MOVE_ASKED = "move_asked"  # the person is linked to another account: an admin must confirm


async def redeem_invite(
    session: AsyncSession, roster: Roster, *, code: str, telegram_id: int, at: datetime
) -> tuple[RedeemOutcome, Person | None]:
    """Bind ``telegram_id`` to the code's person, once; of two racing presses one wins."""
    invite = await session.scalar(select(InviteCode).where(InviteCode.code_hash == hash_code(code)))
    if invite is None:
        return RedeemOutcome.UNKNOWN, None
    person = roster.people.get(invite.person_id)
    if invite.used_at is not None:
        return RedeemOutcome.USED, person
    if invite.revoked_at is not None:
        return RedeemOutcome.REVOKED, person
    if invite.expires_at <= at:
        return RedeemOutcome.EXPIRED, person
    if person is None:
        return RedeemOutcome.PERSON_GONE, None
    holder = await identify(session, roster, telegram_id)
    if holder is not None and holder.person.id != person.id:
        return RedeemOutcome.ACCOUNT_TAKEN, holder.person
    linked = await session.scalar(
        select(TelegramAccount.telegram_id).where(TelegramAccount.person_id == person.id)
    )
    if linked is not None and linked != telegram_id:
        # never unlink a working account on a link alone: an administrator confirms the move
        await session.execute(
            update(InviteCode)
            .where(InviteCode.id == invite.id, InviteCode.used_at.is_(None))
            .values(move_telegram_id=telegram_id)
        )
        record_event(
            session,
            at=at,
            kind="account.move_asked",
            subject=f"person:{person.id}",
            telegram_id=telegram_id,
            invite=invite.id,
        )
        return RedeemOutcome.MOVE_ASKED, person
    return await _link(session, invite, person, telegram_id, at)


async def _link(
    session: AsyncSession, invite: InviteCode, person: Person, telegram_id: int, at: datetime
) -> tuple[RedeemOutcome, Person | None]:
    claimed = await session.execute(
        update(InviteCode)
        .where(
            InviteCode.id == invite.id,
            InviteCode.used_at.is_(None),
            InviteCode.revoked_at.is_(None),
        )
        .values(used_at=at, used_by_telegram_id=telegram_id)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return RedeemOutcome.USED, person
    await session.execute(
        delete(TelegramAccount).where(
            (TelegramAccount.person_id == person.id) | (TelegramAccount.telegram_id == telegram_id)
        )
    )
    session.add(
        TelegramAccount(
            telegram_id=telegram_id, person_id=person.id, linked_at=at, invite_id=invite.id
        )
    )
    record_event(
        session,
        at=at,
        kind="account.linked",
        actor=person.id,
        subject=f"person:{person.id}",
        telegram_id=telegram_id,
        invite=invite.id,
    )
    return RedeemOutcome.LINKED, person


async def invite_by_code(session: AsyncSession, code: str) -> InviteCode | None:
    """The invite a code was made for."""
    return await session.scalar(select(InviteCode).where(InviteCode.code_hash == hash_code(code)))


async def pending_move(session: AsyncSession, invite_id: int) -> InviteCode | None:
    """An invite whose redemption waits for an administrator to confirm the account move."""
    invite = await session.get(InviteCode, invite_id, populate_existing=True)
    if invite is None or invite.move_telegram_id is None or invite.used_at is not None:
        return None
    return invite if invite.revoked_at is None else None


async def confirm_move(
    session: AsyncSession, roster: Roster, invite: InviteCode, admin_id: str, at: datetime
) -> tuple[RedeemOutcome, Person | None]:
    """The administrator confirms: the person's account becomes the one that opened the
    invite (the old one is unlinked)."""
    person = roster.people.get(invite.person_id)
    if person is None:
        return RedeemOutcome.PERSON_GONE, None
    telegram_id = invite.move_telegram_id
    assert telegram_id is not None
    holder = await identify(session, roster, telegram_id)
    if holder is not None and holder.person.id != person.id:
        return RedeemOutcome.ACCOUNT_TAKEN, holder.person
    record_event(
        session,
        at=at,
        kind="account.move_confirmed",
        actor=admin_id,
        subject=f"person:{person.id}",
        telegram_id=telegram_id,
        invite=invite.id,
    )
    return await _link(session, invite, person, telegram_id, at)


async def mark_unreachable(
    session: AsyncSession, person_id: str, at: datetime, reason: str
) -> bool:
    """Record that the bot cannot message a person (403); return whether this is news."""
    result = await session.execute(
        update(PersonRow)
        .where(PersonRow.id == person_id, PersonRow.unreachable_since.is_(None))
        .values(unreachable_since=at)
    )
    news = bool(result.rowcount)  # type: ignore[attr-defined]
    if news:
        record_event(
            session, at=at, kind="person.unreachable", subject=f"person:{person_id}", reason=reason
        )
    return news


async def mark_reachable(session: AsyncSession, person_id: str, at: datetime) -> bool:
    """The person wrote to the bot: it can message them again; return whether this is news."""
    result = await session.execute(
        update(PersonRow)
        .where(PersonRow.id == person_id, PersonRow.unreachable_since.is_not(None))
        .values(unreachable_since=None)
    )
    news = bool(result.rowcount)  # type: ignore[attr-defined]
    if news:
        record_event(session, at=at, kind="person.reachable", subject=f"person:{person_id}")
    return news
