"""The deadline engine: exactly once across engines and restarts, on the real clock too."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.engine import Database
from bot.db.migrate import upgrade
from bot.db.models import Deadline, Event
from bot.incidents.deadlines import add
from bot.timeline import record_event
from scheduling.clock import SystemClock
from scheduling.engine import Engine, Prepared
from scheduling.watch import mute, unwatch, watch, writes_deadlines
from tests.botapi import StandInBotApi
from tests.harness import CHEN, LI, QIAN, SUN, WANG, XU, start_bot, write_config


async def probe(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
    record_event(session, at=now, kind="probe.fired", subject=f"deadline:{deadline.id}")


async def test_two_engines_on_one_database_fire_every_deadline_exactly_once(
    database_url: str,
) -> None:
    first, second = Database(database_url), Database(database_url)
    await upgrade(first)
    past = datetime.now(UTC) - timedelta(seconds=5)
    async with first.transaction() as session:
        for n in range(300):
            add(session, None, "probe", past + timedelta(milliseconds=n))
    engines = [Engine(db, SystemClock(), {"probe": probe}) for db in (first, second)]
    counts = await asyncio.gather(*(engine.tick() for engine in engines))
    assert sum(counts) == 300
    async with first.sessions() as session:
        fired = Counter(
            await session.scalars(select(Event.subject).where(Event.kind == "probe.fired"))
        )
        states = set(await session.scalars(select(Deadline.state)))
    assert len(fired) == 300 and set(fired.values()) == {1}
    assert states == {"fired"}
    await first.close()
    await second.close()


async def test_a_firing_that_fails_leaves_the_deadline_to_fire_again(database_url: str) -> None:
    database = Database(database_url)
    await upgrade(database)
    async with database.transaction() as session:
        add(session, None, "probe", datetime.now(UTC) - timedelta(seconds=1))
    attempts = []

    async def flaky(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        attempts.append(deadline.id)
        if len(attempts) <= 2:  # the batch attempt and the isolated retry both fail
            raise RuntimeError("the database went away mid-firing")
        await probe(session, deadline, now)

    engine = Engine(database, SystemClock(), {"probe": flaky})
    assert await engine.tick() == 0
    assert await engine.tick() == 1
    assert await engine.tick() == 0
    async with database.sessions() as session:
        assert (
            len((await session.scalars(select(Event).where(Event.kind == "probe.fired"))).all())
            == 1
        )
    await database.close()


async def test_escalation_due_while_the_bot_was_down_arrives_once_after_restart(
    tmp_path: Path, botapi: StandInBotApi, database_url: str
) -> None:
    config = write_config(
        tmp_path,
        base_url=botapi.base_url,
        database_url=database_url,
        extra='\n[levels.unassessed]\naccept = "2s"\n\n[escalation]\nstep = "1s"\nrepeat = "30s"\n',
    )
    botapi.started_chats.update({WANG, LI, QIAN, CHEN, SUN})
    first = await start_bot(config)
    try:
        xu = botapi.user(XU, "Xu")
        await xu.send("/report Transformer explosion near the market")
        await xu.next_message(timeout=30)  # received as #1: committed
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    await asyncio.sleep(3)  # the accept limit passes while the bot is down

    qian = botapi.user(QIAN, "Qian")
    second = await start_bot(config)
    try:
        await botapi.wait_until(
            lambda: any("ESCALATION" in m.text for m in qian.inbox()), timeout=30
        )
        chen = botapi.user(CHEN, "Chen")
        await botapi.wait_until(
            lambda: any("ESCALATION" in m.text for m in chen.inbox()), timeout=30
        )
        await asyncio.sleep(2)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), timeout=30)
    assert sum("ESCALATION" in m.text for m in qian.inbox()) == 1
    assert sum("ESCALATION" in m.text for m in chen.inbox()) == 1


async def test_one_failing_firing_does_not_hold_back_the_others(database_url: str) -> None:
    database = Database(database_url)
    await upgrade(database)
    past = datetime.now(UTC) - timedelta(seconds=1)
    async with database.transaction() as session:
        rows = [add(session, None, "probe", past + timedelta(milliseconds=n)) for n in range(3)]
        await session.flush()
        broken = rows[1].id

    async def picky(session: AsyncSession, deadline: Deadline, now: datetime) -> None:
        if deadline.id == broken:
            raise RuntimeError("this one always fails")
        await probe(session, deadline, now)

    engine = Engine(database, SystemClock(), {"probe": picky})
    assert await engine.tick() == 2
    async with database.sessions() as session:
        states = dict((await session.execute(select(Deadline.id, Deadline.state))).all())
    assert states[broken] == "pending"
    assert sorted(v for k, v in states.items() if k != broken) == ["fired", "fired"]
    await database.close()


async def test_a_prepared_firing_prepares_holding_no_connection_and_fires_once(
    database_url: str,
) -> None:
    """A prepared kind (the bulletin's chart) is prepared while the engine holds no database
    connection, so no transaction; two engines may both prepare a row, one fires it; a
    preparation that fails leaves it pending, and the plain kinds fire meanwhile."""
    first, second = Database(database_url), Database(database_url)
    await upgrade(first)
    past = datetime.now(UTC) - timedelta(seconds=1)
    async with first.transaction() as session:
        for n in range(3):
            add(session, None, "slow", past + timedelta(milliseconds=n), data={"n": n})
        add(session, None, "probe", past)
    held: list[int] = []
    fails = [True]

    def engine_for(database: Database) -> Engine:
        async def prepare(deadline: Deadline, now: datetime) -> str:
            held.append(database.engine.sync_engine.pool.checkedout())
            await asyncio.sleep(0.01)  # the other engine prepares meanwhile
            if deadline.data["n"] == 2 and fails[0]:
                raise RuntimeError("drawing failed")
            return f"drawn {deadline.data['n']}"

        async def fire(session: AsyncSession, deadline: Deadline, now: datetime, made: str) -> None:
            record_event(session, at=now, kind="slow.fired", subject=made)

        return Engine(database, SystemClock(), {"probe": probe, "slow": Prepared(prepare, fire)})

    engines = [engine_for(db) for db in (first, second)]
    counts = await asyncio.gather(*(engine.tick() for engine in engines))
    assert sum(counts) == 3  # the probe, "slow" 0 and 1; 2 failed in both
    assert held and set(held) == {0}
    fails[0] = False
    assert await engines[0].tick() == 1
    async with first.sessions() as session:
        fired = Counter(
            await session.scalars(select(Event.subject).where(Event.kind == "slow.fired"))
        )
        states = set(await session.scalars(select(Deadline.state)))
    assert fired == {"drawn 0": 1, "drawn 1": 1, "drawn 2": 1}
    assert states == {"fired"}
    await first.close()
    await second.close()


async def test_a_child_added_with_its_new_parent_points_at_it(database_url: str) -> None:
    """A warning added with its report deadline in one transaction, nothing flushed between
    (``scheduling.rows.add`` links them as both are inserted): it points at that deadline and
    is stopped with it."""
    from scheduling.rows import stop_children

    database = Database(database_url)
    await upgrade(database)
    due = datetime.now(UTC) + timedelta(hours=1)
    async with database.transaction() as session:
        parent = add(session, None, "probe", due)
        child = add(session, None, "warning", due - timedelta(minutes=10), parent=parent)
        assert parent.id is None  # not flushed yet
    assert child.parent_id == parent.id is not None
    async with database.transaction() as session:
        await stop_children(session, [parent.id])
    async with database.sessions() as session:
        states = dict((await session.execute(select(Deadline.kind, Deadline.state))).all())
    assert states == {"probe": "pending", "warning": "cancelled"}
    await database.close()


async def test_meeting_deadlines_marks_them_met_late_or_not_and_stops_only_their_children(
    database: Database,
) -> None:
    """``meet`` in one statement: each deadline met (late when it was past due), its pending
    children cancelled, nobody else's; the objects in the session say what the rows say."""
    from scheduling.rows import meet

    now = datetime.now(UTC)
    async with database.transaction() as session:
        past = add(session, None, "probe", now - timedelta(minutes=5))
        future = add(session, None, "probe", now + timedelta(hours=1))
        other = add(session, None, "other", now + timedelta(hours=1))
        for parent in (past, future, other):
            add(session, None, "warning", now + timedelta(minutes=30), parent=parent)
    async with database.transaction() as session:
        met = [await session.get(Deadline, row.id) for row in (past, future)]
        loaded_child = await session.scalar(select(Deadline).where(Deadline.parent_id == past.id))
        assert loaded_child is not None
        await meet(session, 0, "probe", now, known=[row for row in met if row is not None])
        assert [(r.state, r.late, r.met_at) for r in met if r is not None] == [
            ("met", True, now),
            ("met", False, now),
        ]
        assert loaded_child.state == "cancelled"
        assert not session.dirty  # in step with the rows, nothing left to write
    async with database.sessions() as session:
        rows = (await session.scalars(select(Deadline).order_by(Deadline.id))).all()
    by_id = {row.id: row for row in rows}
    assert (by_id[past.id].state, by_id[past.id].late, by_id[past.id].met_at) == ("met", True, now)
    assert (by_id[future.id].state, by_id[future.id].late) == ("met", False)
    assert by_id[other.id].state == "pending"
    children = {row.parent_id: row.state for row in rows if row.kind == "warning"}
    assert children == {past.id: "cancelled", future.id: "cancelled", other.id: "pending"}


def test_statements_that_write_deadlines_are_told_from_the_rest() -> None:
    assert writes_deadlines("INSERT INTO deadlines (kind, due_at) VALUES (?, ?)")
    assert writes_deadlines('UPDATE "deadlines" SET state=? WHERE id = ?')
    assert writes_deadlines("delete from deadlines where id = 1")
    assert not writes_deadlines("SELECT deadlines.id FROM deadlines WHERE deadlines.state = ?")
    assert not writes_deadlines("INSERT INTO deadlines_archive (id) VALUES (1)")
    assert not writes_deadlines("UPDATE outbox SET state=? WHERE id IN (SELECT id FROM deadlines)")


async def test_the_engine_hears_of_every_committed_deadline_change_and_nothing_else(
    database_url: str,
) -> None:
    # No flow tells the engine: a commit that wrote deadlines, however, does; one that wrote
    # none, or rolled back, does not.
    database = Database(database_url)
    await upgrade(database)
    told: list[str] = []
    watch(database.engine.sync_engine, lambda: told.append("look"))
    try:
        now = datetime.now(UTC)
        async with database.transaction() as session:  # the ORM's flush at the commit
            deadline = add(session, None, "probe", now + timedelta(hours=1))
        assert told == ["look"]
        async with database.transaction() as session:
            record_event(session, at=now, kind="probe.other", subject="nothing due")
        assert told == ["look"]
        async with database.transaction() as session:  # a Core statement
            await session.execute(
                update(Deadline).where(Deadline.id == deadline.id).values(due_at=now)
            )
        assert told == ["look", "look"]
        with contextlib.suppress(RuntimeError):
            async with database.transaction() as session:
                add(session, None, "probe", now)
                await session.flush()
                raise RuntimeError("abandoned: rolled back")
        assert told == ["look", "look"]
        async with database.transaction() as session:  # the engine's own firing: muted
            await mute(session)
            await session.execute(update(Deadline).values(state="fired"))
        assert told == ["look", "look"]
        async with database.transaction() as session:  # SQL text
            await session.execute(text("DELETE FROM deadlines"))
        assert told == ["look", "look", "look"]
    finally:
        unwatch(database.engine.sync_engine)
        await database.close()
