"""The deadline engine hears of every committed change to the deadlines table, whoever made it.

Any statement that writes the table — an ORM flush, a Core statement, SQL text — marks its
connection; that connection's commit then calls the watcher (the engine's ``changed``, which
looks a moment later, when the commit has landed). A rollback forgets the mark, and the
engine's own firing transactions are muted (it re-arms itself after firing). No flow or
handler has to remember to tell the engine: a deadline added, moved or cancelled anywhere is
armed, and a commit that wrote no deadline costs the engine nothing.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession

WROTE = "dutybot.deadlines.wrote"
MUTED = "dutybot.deadlines.muted"
TABLE = "deadlines"
_WRITES = re.compile(
    rf"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?{TABLE}\"?(?:\s|\(|$)", re.IGNORECASE
)

_watchers: weakref.WeakKeyDictionary[Engine, Callable[[], None]] = weakref.WeakKeyDictionary()


def writes_deadlines(statement: str) -> bool:
    """Whether the SQL ``statement`` inserts, updates or deletes rows of the deadlines table."""
    return _WRITES.match(statement) is not None


def watch(engine: Engine, changed: Callable[[], None]) -> None:
    """From now on, call ``changed`` after each commit through ``engine`` that wrote deadlines."""
    _watchers[engine] = changed


def unwatch(engine: Engine) -> None:
    """Stop telling (this process no longer fires deadlines)."""
    _watchers.pop(engine, None)


async def mute(session: AsyncSession) -> None:
    """This transaction's writes need no telling: the engine's own firing, after which it
    re-arms itself (a look per firing would double its queries when deadlines fall due close
    together)."""
    (await session.connection()).info[MUTED] = True


@event.listens_for(Engine, "before_cursor_execute")
def _statement(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
    if conn.engine in _watchers and writes_deadlines(statement):
        conn.info[WROTE] = True


@event.listens_for(Engine, "commit")
def _committed(conn: Connection) -> None:
    muted = conn.info.pop(MUTED, False)
    if conn.info.pop(WROTE, False) and not muted:
        changed = _watchers.get(conn.engine)
        if changed is not None:
            changed()


@event.listens_for(Engine, "rollback")
def _rolled_back(conn: Connection) -> None:
    if conn.invalidated:
        # the connection was lost (its marks with it): its ``info`` would raise here, in place of
        # the error that lost it
        return
    conn.info.pop(WROTE, None)
    conn.info.pop(MUTED, None)
