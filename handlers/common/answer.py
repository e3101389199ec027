"""Where the answer to an action goes: a toast for a button press, a message for a command.

Answering a button press is best effort: by then the action is committed, so a failed
``answerCallbackQuery`` (429, 5xx, a query too old) is one warning line, never an error.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers.common.buttons import answer_button
from handlers.common.context import DutyContext
from handlers.common.respond import record_in, reply_in

log = logging.getLogger(__name__)


class Answer:
    """Collects the answer inside the action's transaction and shows it after the commit."""

    def __init__(self, update: Update, context: DutyContext) -> None:
        self.update, self.context = update, context
        self.toast: str | None = None

    def say(self, session: AsyncSession, text: str) -> None:
        """Answer in ``session``: a button gets a toast (sent after commit), a command a reply."""
        if self.update.callback_query is not None:
            self.toast = text
            record_in(session, self.update, self.context)
        else:
            reply_in(session, self.update, self.context, text)

    async def finish(self) -> None:
        """After commit: show the toast."""
        query = self.update.callback_query
        if query is not None:
            await answer_button(
                query, self.toast[:200] if self.toast else None, show_alert=bool(self.toast)
            )
