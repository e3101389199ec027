"""python-telegram-bot persistence in the database, not a pickle file.

Only what forms need is kept: conversation states and ``user_data`` (a half-filled report, a
question the bot is waiting to have answered). Both survive a restart of the bot; bot and chat
data and callback data are not stored (the runtime lives in ``bot_data`` and is rebuilt).
"""

from __future__ import annotations

import json
from copy import deepcopy
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from bot.db.engine import Database
from bot.db.models import BotState

USER = "user"


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

    async def _upsert(self, kind: str, key: str, value: dict[str, Any]) -> None:
        insert = pg_insert if self.database.is_postgresql else sqlite_insert
        statement = insert(BotState).values(kind=kind, key=key, value=value)
        statement = statement.on_conflict_do_update(
            index_elements=[BotState.kind, BotState.key], set_={"value": value}
        )
        async with self.database.transaction() as session:
            await session.execute(statement)

    async def _delete(self, kind: str, key: str) -> None:
        async with self.database.transaction() as session:
            await session.execute(
                delete(BotState).where(BotState.kind == kind, BotState.key == key)
            )

    async def _rows(self, kind: str) -> list[BotState]:
        async with self.database.sessions() as session:
            return list(await session.scalars(select(BotState).where(BotState.kind == kind)))

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        """Every user's stored data."""
        return {int(row.key): deepcopy(row.value) for row in await self._rows(USER)}

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """Store one user's data (an empty dict removes the row)."""
        if data:
            await self._upsert(USER, str(user_id), json.loads(json.dumps(data)))
        else:
            await self._delete(USER, str(user_id))

    async def drop_user_data(self, user_id: int) -> None:
        """Forget one user's data."""
        await self._delete(USER, str(user_id))

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """Nothing to refresh: this process is the only writer of a user's data."""

    async def get_conversations(self, name: str) -> ConversationDict:
        """The stored states of one conversation handler."""
        rows = await self._rows(_conversation_kind(name))
        return {tuple(json.loads(row.key)): row.value["state"] for row in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store (or, when ended, remove) one conversation's state."""
        kind, stored_key = _conversation_kind(name), json.dumps(list(key))
        if new_state is None:
            await self._delete(kind, stored_key)
        else:
            await self._upsert(kind, stored_key, {"state": new_state})

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
        """Every write is already committed."""
