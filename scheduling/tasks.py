"""Ending background loops: cancel a task and wait for it, never forever.

A loop that swallows its cancel (a library that catches ``CancelledError``, or ``asyncio.wait_for``
on Python 3.11 when its inner call completes in the same step) would otherwise hang the bot's
stop. Such a task is cancelled again and again, and its stack is logged so the cause is found.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from typing import Any

log = logging.getLogger(__name__)

PATIENCE = 5.0


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
