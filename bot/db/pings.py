"""PostgreSQL connections pinged when they come back from a rest, not at every use.

A pooled connection can die while it waits in the pool: the server restarted, a proxy or a
firewall dropped it. SQLAlchemy's ``pool_pre_ping`` asks the server at every checkout, a round
trip before every transaction; a report takes three checkouts on its way to the officer (the
duplicate check, its transaction, the send's record). Here a connection is pinged only when it
has rested in the pool longer than ``REST_BEFORE_PING`` seconds: one checked in moments ago was
alive then. A ping that fails retires every connection opened until then (a restarted server
took them all), and the pool opens a fresh one for this checkout.

What the pings leave (a connection that died within the last few seconds of its rest) fails
its first statement as a disconnect: SQLAlchemy then retires the pool's connections the same
way, and the work is retried by its owner, as after any database error — an update by the
dispatcher, a deadline by the engine's next look, a message by the sender.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

REST_BEFORE_PING = 2.0
RESTING_SINCE = "dutybot.pings.resting_since"
monotonic = time.monotonic  # the tests rest a connection without waiting


def ping_after_rest(engine: Engine, rest: float = REST_BEFORE_PING) -> None:
    """From now on, ping ``engine``'s connections that rested over ``rest`` seconds in the pool
    when they are checked out, and replace them if the ping fails."""

    @event.listens_for(engine, "checkin")
    def _rests(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        if dbapi_connection is not None:  # None: it was retired, not put back
            record.info[RESTING_SINCE] = monotonic()

    @event.listens_for(engine, "checkout")
    def _wakes(
        dbapi_connection: Any, record: ConnectionPoolEntry, _: PoolProxiedConnection
    ) -> None:
        since = record.info.pop(RESTING_SINCE, None)
        if since is None or monotonic() - since <= rest:
            return  # just opened, or back from a short rest
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # the pool retires every connection opened until now and opens a fresh one
            raise exc.InvalidatePoolError(f"a rested connection is gone: {error}") from error
