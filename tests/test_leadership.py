"""Giving leadership up always finishes: stopping the bot may not hang on its leadership check."""

from __future__ import annotations

import asyncio

import pytest

from scheduling.leader import AdvisoryLockLeadership
from scheduling.tasks import Stretches, cancel_and_join


async def test_stop_finishes_when_the_check_completes_as_it_is_cancelled() -> None:
    """The check's query answers in the very step in which ``stop()`` cancels the loop: the
    cancel must still end the loop (``asyncio.wait_for`` on Python 3.11 swallowed it, and the
    bot's stop waited forever while the leader kept leading)."""
    answered = asyncio.Event()
    checking = asyncio.Event()
    checks = 0
    lost = 0

    async def on_gain() -> None:
        return None

    async def on_loss() -> None:
        nonlocal lost
        lost += 1

    leadership = AdvisoryLockLeadership(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", on_gain, on_loss, check=0.01
    )

    async def check_once() -> bool:
        nonlocal checks
        checks += 1
        checking.set()
        await answered.wait()
        return False

    leadership._check_once = check_once  # type: ignore[method-assign]
    await leadership.start()
    await asyncio.wait_for(checking.wait(), 5)
    answered.set()  # the query's answer is ready to be read in the next step of the loop...
    stopping = asyncio.ensure_future(leadership.stop())  # ...and stop cancels in the same step
    done, _ = await asyncio.wait({stopping}, timeout=5)
    assert stopping in done, "stop() did not return: the cancel of the check loop was lost"
    checks_at_stop = checks
    await asyncio.sleep(0.05)
    assert checks == checks_at_stop, "the leadership loop went on checking after stop()"


async def test_a_task_that_swallows_its_cancel_is_cancelled_again_and_its_stack_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A loop that eats one cancel still ends, and the log says where it was stuck."""
    swallowed = 0

    async def stubborn_loop() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1

    task = asyncio.create_task(stubborn_loop(), name="stubborn")
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_join(task, patience=0.05), 5)
    assert task.cancelled()
    assert swallowed == 1
    assert "task stubborn did not end" in caplog.text
    assert "stubborn_loop" in caplog.text


async def test_a_loop_is_cancelled_between_its_transactions_not_inside_one() -> None:
    """``Stretches.between`` returns once the loop has left the stretch under way (a database
    transaction), so the cancel that follows reaches the loop outside it: the stretch ends whole
    (cancelled inside, its connection's reset would be cancelled too, and logged)."""
    stretches = Stretches()
    entered, ended, cancelled_inside = asyncio.Event(), asyncio.Event(), []

    async def loop() -> None:
        while True:
            async with stretches.inside():
                entered.set()
                try:
                    await asyncio.sleep(0.05)  # a transaction under way
                except asyncio.CancelledError:
                    cancelled_inside.append(True)
                    raise
                ended.set()
            await asyncio.sleep(10)  # between transactions: waiting for work

    task = asyncio.create_task(loop())
    await entered.wait()
    await stretches.between(5)
    await cancel_and_join(task)
    assert ended.is_set() and not cancelled_inside
    assert task.cancelled()


async def test_between_waits_no_longer_than_it_is_told() -> None:
    """A stretch that does not end does not hold up a stop for ever."""
    stretches = Stretches()
    entered = asyncio.Event()

    async def stuck() -> None:
        async with stretches.inside():
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await entered.wait()
    await asyncio.wait_for(stretches.between(0.05), 5)
    await cancel_and_join(task)
    assert task.cancelled()
