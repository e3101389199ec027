"""Whether this process should receive traffic: the answer behind ``/readyz``.

The composition root passes the status server an async callable returning a ``Readiness``;
``readiness_check`` builds one from the database and two cheap callables it already has.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import text
from telegram.error import NetworkError

from bot.db.engine import Database

log = logging.getLogger(__name__)

Leadership = Literal["leader", "standby"]
DATABASE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Readiness:
    """The three facts ``/readyz`` reports.

    ``telegram`` is ``True`` when the last Bot API call got an answer, ``False`` when it did not,
    ``None`` when nothing is known (no call yet; a standby makes none).
    """

    database: bool
    leadership: Leadership
    telegram: bool | None = None

    @property
    def ready(self) -> bool:
        """Ready: the database answers, this process leads, and Telegram is not known down.

        A standby is alive (``/healthz``) but not ready, so that a load balancer in front of
        webhook processes sends Telegram's requests to the leader only.
        """
        return self.database and self.leadership == "leader" and self.telegram is not False

    def as_json(self) -> dict[str, str]:
        """The body of ``/readyz``: words only, never an error text that could hold a secret."""
        return {
            "status": "ready" if self.ready else "not ready",
            "database": "ok" if self.database else "unreachable",
            "leadership": self.leadership,
            "telegram": {True: "ok", False: "unreachable", None: "unknown"}[self.telegram],
        }


ReadinessCheck = Callable[[], Awaitable[Readiness]]


class TelegramReachability:
    """Whether the Bot API answered the last call: a sender observer (``send_observers``).

    Any answer, even a refusal (429, 403, 400), shows Telegram is reachable; a network failure
    or a 5xx shows it is not. ``None`` until the first call.
    """

    def __init__(self) -> None:
        self.reachable: bool | None = None

    def observe_send(self, error: BaseException | None, _seconds: float) -> None:
        """Note the outcome of one Bot API call (``None``: it succeeded)."""
        self.reachable = not isinstance(error, NetworkError)

    def __call__(self) -> bool | None:
        """The last outcome, for ``readiness_check(telegram_reachable=...)``."""
        return self.reachable


async def database_reachable(database: Database) -> bool:
    """Tell whether the database answers ``SELECT 1`` within ``DATABASE_TIMEOUT_S`` seconds."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_S), database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        log.warning("readiness: the database does not answer (%s)", type(error).__name__)
        return False
    return True


def readiness_check(
    database: Database,
    is_leader: Callable[[], bool] = lambda: True,
    telegram_reachable: Callable[[], bool | None] = lambda: None,
) -> ReadinessCheck:
    """A ``ReadinessCheck`` from the database and two callables of the running bot.

    ``is_leader``: whether this process holds the leadership now (a single process always does).
    ``telegram_reachable``: ``True``/``False`` from the last Bot API call, ``None`` if unknown.
    """

    async def check() -> Readiness:
        return Readiness(
            database=await database_reachable(database),
            leadership="leader" if is_leader() else "standby",
            telegram=telegram_reachable(),
        )

    return check
