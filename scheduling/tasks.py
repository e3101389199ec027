"""Ending background loops: cancel a task and wait for it, never forever.

A loop that swallows its cancel (a library that catches ``CancelledError``, or ``asyncio.wait_for``
on Python 3.11 when its inner call completes in the same step) would otherwise hang the bot's
stop. Such a task is cancelled again and again, and its stack is logged so the cause is found.

A loop cancelled inside a database transaction leaves its connection to be reset by the pool as
the cancel unwinds, and the reset itself is cancelled: SQLAlchemy logs that with a traceback.
Such a loop marks those stretches (``Stretches.inside``) and is cancelled between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

log = logging.getLogger(__name__)

PATIENCE = 5.0


class Stretches:
    """The stretches of a loop that a cancel must not cut (its database transactions)."""

    def __init__(self) -> None:
        self._open = 0
        self._closed = asyncio.Event()

    @contextlib.asynccontextmanager
    async def inside(self) -> AsyncIterator[None]:
        """Mark one stretch."""
        self._open += 1
        try:
            yield
        finally:
            self._open -= 1
            self._closed.set()

    async def between(self, at_most: float) -> None:
        """Return when the loop is between stretches (at most ``at_most`` seconds): a cancel
        sent now, before the loop runs again, reaches it outside them."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(at_most):
                while self._open:
                    self._closed.clear()
                    await self._closed.wait()


async def cancel_and_join(task: asyncio.Task[Any], patience: float = PATIENCE) -> None:
    """Cancel ``task`` and wait until it has ended, cancelling it again (and logging where it
    is stuck) each time ``patience`` seconds pass without it ending."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=patience)
        if not task.done():
            stack = io.StringIO()
            task.print_stack(file=stack)
            log.warning(
                "task %s did not end %.0fs after it was cancelled; cancelling again. "
                "It waits at:\n%s",
                task.get_name(),
                patience,
                stack.getvalue(),
            )
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
