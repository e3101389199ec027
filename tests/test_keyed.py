"""New deadlines, outbox rows and alert links inserted by Core at the flush (``bot.db.keyed``):
parents first, keys in the order the rows were added, every column written, the objects left
persistent (changed later, they are updated; never inserted twice), and the ORM's own insert
inside a savepoint."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from bot.db.engine import Database
from bot.db.models import Deadline, IncidentAlert, IncidentRow, OutboxMessage, PersonRow, UnitRow
from bot.delivery.outbox import enqueue
from bot.incidents.service import remember_alert
from scheduling import rows

AT = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


@pytest.fixture
def writes(database: Database) -> Iterator[list[str]]:
    """``INSERT table`` / ``UPDATE table`` for every write sent from now on."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        found = re.match(r"\s*(INSERT INTO|UPDATE)\s+(\w+)", sql)
        if found:
            seen.append(f"{found.group(1).split()[0]} {found.group(2)}")

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


async def _incident(database: Database) -> int:
    async with database.transaction() as session:
        session.add(UnitRow(id="city", name="City"))
        await session.flush()
        session.add(PersonRow(id="xu", name="Xu", unit_id="city", roles="officer"))
        await session.flush()
        incident = IncidentRow(unit_id="city", summary="flood", reported_at=AT, reporter_id="xu")
        session.add(incident)
        await session.flush()
        return incident.id


async def test_a_report_s_rows_go_in_parents_first_each_table_in_one_statement_per_round(
    database: Database, writes: list[str]
) -> None:
    incident_id = await _incident(database)
    writes.clear()
    async with database.transaction() as session:
        incident = await session.get_one(IncidentRow, incident_id)
        accept = rows.add(session, incident_id, "accept", AT + timedelta(minutes=5))
        flash = rows.add(session, incident_id, "flash", AT + timedelta(minutes=30))
        warning = rows.add(
            session, incident_id, "warning", AT + timedelta(minutes=25), parent=flash
        )
        cards = [enqueue(session, chat, f"card for {chat}", priority=1)[0] for chat in (7, 8, 9)]
        for card in cards:
            remember_alert(session, incident, card, card.chat_id, None)
    # deadlines and cards first, then what points at them: four statements for nine rows
    assert writes == [
        "INSERT deadlines",
        "INSERT outbox",
        "INSERT deadlines",
        "INSERT incident_alerts",
    ]
    assert [accept.id, flash.id] == sorted([accept.id, flash.id])
    assert warning.parent_id == flash.id
    assert [c.id for c in cards] == sorted(c.id for c in cards)  # the order they were queued
    async with database.sessions() as session:
        stored = {d.kind: d for d in await session.scalars(select(Deadline))}
        assert stored["warning"].parent_id == stored["flash"].id
        assert stored["accept"].parent_id is None
        assert stored["accept"].data == {} and stored["accept"].late is False
        links = (await session.scalars(select(IncidentAlert).order_by(IncidentAlert.id))).all()
        outbox = {o.id: o for o in await session.scalars(select(OutboxMessage))}
        assert [(a.outbox_id, a.chat_id) for a in links] == [(c.id, c.chat_id) for c in cards]
        assert [outbox[a.outbox_id].text for a in links] == [
            "card for 7",
            "card for 8",
            "card for 9",
        ]
        assert all(a.active and not a.digest for a in links)


async def test_inserted_objects_read_their_defaults_and_are_updated_not_inserted_again(
    database: Database, writes: list[str]
) -> None:
    async with database.transaction() as session:
        deadline = rows.add(session, None, "handover", AT)
        [message] = enqueue(session, 5, "hello")
        await session.flush()
        writes.clear()
        # every column is loaded: nothing to fetch (an async session would refuse to)
        assert deadline.fired_at is None and deadline.warned_at is None
        assert message.telegram_message_id is None and message.edit_of is None
        assert deadline.data == {}
        deadline.state = "met"
        message.state = "sent"
        await session.flush()
        assert sorted(writes) == ["UPDATE deadlines", "UPDATE outbox"]
        assert not session.new  # nothing left for the ORM to insert
    async with database.sessions() as session:
        assert (
            await session.scalar(select(Deadline.state).where(Deadline.id == deadline.id)) == "met"
        )
        assert (await session.scalars(select(OutboxMessage.state))).all() == ["sent"]


async def test_each_row_gets_a_default_of_its_own(database: Database) -> None:
    async with database.transaction() as session:
        # ``data`` left unset: the column's default (``dict``) fills it
        first, second = (Deadline(kind="handover", due_at=AT) for _ in range(2))
        session.add_all([first, second])
        await session.flush()
        assert first.state == "pending" and first.late is False
        first.data["note"] = "only mine"
        assert second.data == {}


async def test_a_savepoint_rolled_back_takes_its_rows_with_it(database: Database) -> None:
    async with database.transaction() as session:
        kept = rows.add(session, None, "handover", AT)
        nested = await session.begin_nested()
        lost = rows.add(session, None, "handover", AT + timedelta(hours=1))
        enqueue(session, 5, "never sent")
        await session.flush()
        await nested.rollback()
        assert lost not in session
    async with database.sessions() as session:
        assert (await session.scalars(select(Deadline.id))).all() == [kept.id]
        assert (await session.scalars(select(OutboxMessage.id))).all() == []


async def test_a_rollback_leaves_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            rows.add(session, None, "handover", AT)
            enqueue(session, 5, "never sent")
            await session.flush()
            raise RuntimeError("the change failed")
    async with database.sessions() as session:
        assert (await session.scalars(select(Deadline.id))).all() == []
        assert (await session.scalars(select(OutboxMessage.id))).all() == []
