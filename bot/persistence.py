"""python-telegram-bot persistence in the database, not a pickle file.

Only what forms need is kept: conversation states and ``user_data`` (a half-filled report, a
question the bot is waiting to have answered). Both survive a restart of the bot; bot and chat
data and callback data are not stored (the runtime lives in ``bot_data`` and is rebuilt).

Writes are buffered, not committed on their own: the update that caused them commits them with
its own record and answers (``write_pending`` in its transaction), so a form's newest answer and
its position are saved exactly when the update counts as handled. ``flush`` writes the rest.
"""

from __future__ import annotations

import json
from copy import deepcopy
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from bot.db.engine import Database
from bot.db.models import BotState

USER = "user"
Key = tuple[str, str]  # (kind, key) of a bot_state row


def _conversation_kind(name: str) -> str:
    return f"conversation:{name}"


class SQLPersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Stores conversation states and user data as JSON rows of ``bot_state``."""

    def __init__(self, database: Database, update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.database = database
        self._pending: dict[Key, dict[str, Any] | None] = {}  # None: delete the row
        self._stored: dict[Key, dict[str, Any] | None] = {}  # what the database holds

    async def _write(self, session: AsyncSession, key: Key, value: dict[str, Any] | None) -> None:
        kind, stored_key = key
        if value is None:
            await session.execute(
                delete(BotState).where(BotState.kind == kind, BotState.key == stored_key)
            )
            return
        insert = pg_insert if self.database.is_postgresql else sqlite_insert
        statement = insert(BotState).values(kind=kind, key=stored_key, value=value)
        statement = statement.on_conflict_do_update(
            index_elements=[BotState.kind, BotState.key], set_={"value": value}
        )
        await session.execute(statement)

    def _buffer(self, key: Key, value: dict[str, Any] | None) -> None:
        if self._stored.get(key) == value:
            self._pending.pop(key, None)  # back to what the database has
            return
        self._pending[key] = value

    @staticmethod
    def _concerns(key: Key, user_id: int | None, chat_id: int | None) -> bool:
        kind, stored_key = key
        if kind == USER:
            return user_id is not None and stored_key == str(user_id)
        ids = json.loads(stored_key)[:2]
        return bool(ids) and all(i in (user_id, chat_id) for i in ids if i is not None)

    async def write_pending(
        self, session: AsyncSession, *, user_id: int | None, chat_id: int | None
    ) -> None:
        """Write, in the caller's transaction, the buffered changes of one user in one chat
        (their data and their conversations' states)."""
        for key in [k for k in self._pending if self._concerns(k, user_id, chat_id)]:
            value = self._pending.pop(key)
            await self._write(session, key, value)
            self._stored[key] = value

    async def _rows(self, kind: str) -> list[BotState]:
        async with self.database.sessions() as session:
            return list(await session.scalars(select(BotState).where(BotState.kind == kind)))

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """Every user's stored data."""
        rows = await self._rows(USER)
        self._stored.update({(USER, row.key): row.value for row in rows})
        return {int(row.key): deepcopy(row.value) for row in rows}

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Buffer one user's data (an empty dict removes the row)."""
        self._buffer((USER, str(user_id)), json.loads(json.dumps(data)) if data else None)

    async def drop_user_data(self, user_id: int) -> None:
        """Forget one user's data."""
        self._buffer((USER, str(user_id)), None)

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Nothing to refresh: this process is the only writer of a user's data."""

    async def get_conversations(self, name: str) -> ConversationDict:
        """The stored states of one conversation handler."""
        rows = await self._rows(_conversation_kind(name))
        self._stored.update({(row.kind, row.key): row.value for row in rows})
        return {tuple(json.loads(row.key)): row.value["state"] for row in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Buffer one conversation's state (``None``: the conversation ended)."""
        stored_key = (_conversation_kind(name), json.dumps(list(key)))
        self._buffer(stored_key, None if new_state is None else {"state": new_state})

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        """Chat data is not stored."""
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        """Chat data is not stored."""

    async def drop_chat_data(self, chat_id: int) -> None:
        """Chat data is not stored."""

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        """Chat data is not stored."""

    async def get_bot_data(self) -> dict[Any, Any]:
        """Bot data is not stored (it holds the runtime, rebuilt at start)."""
        return {}

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """Bot data is not stored."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """Bot data is not stored."""

    async def get_callback_data(self) -> CDCData | None:
        """Callback data is not stored (button data is self-contained)."""
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        """Callback data is not stored."""

    async def flush(self) -> None:
        """Write every buffered change (at shutdown: no update is being handled any more)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        async with self.database.transaction() as session:
            for key, value in pending.items():
                await self._write(session, key, value)
        self._stored.update(pending)
