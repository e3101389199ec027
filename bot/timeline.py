"""The append-only event log: one row per fact, written in the transaction that makes the fact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Event


def record_event(
    session: AsyncSession,
    *,
    at: datetime,
    kind: str,
    actor: str | None = None,
    subject: str | None = None,
    note: str | None = None,
    **data: Any,
) -> Event:
    """Add an event to the session; it commits (or not) together with the change it records."""
    event = Event(at=at, kind=kind, actor_id=actor, subject=subject, note=note, data=data)
    session.add(event)
    return event


async def events_about(session: AsyncSession, subject: str) -> list[Event]:
    """Every event about a subject, oldest first."""
    rows = await session.scalars(select(Event).where(Event.subject == subject).order_by(Event.id))
    return list(rows)
