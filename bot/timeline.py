"""The append-only event log: one row per fact, written in the transaction that makes the fact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.appends import append
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
) -> None:
    """Add an event to the transaction; it commits (or not) together with the change it records
    (inserted with the transaction's other events, in one statement)."""
    row = {"at": at, "kind": kind, "actor_id": actor, "subject": subject, "note": note}
    append(session, Event, {**row, "data": data})


async def events_about(session: AsyncSession, subject: str) -> list[Event]:
    """Every event about a subject, oldest first."""
    rows = await session.scalars(select(Event).where(Event.subject == subject).order_by(Event.id))
    return list(rows)
