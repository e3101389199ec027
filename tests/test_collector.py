"""The collector while the bot runs: what the started bot holds is set aside (``gc.freeze``), so
that a collection in the middle of a report walks only what was made since; the stop hands it
back."""

from __future__ import annotations

import gc

from tests.harness import BotHarness


async def test_a_running_bot_sets_its_start_aside_and_hands_it_back_at_the_stop(
    harness: BotHarness,
) -> None:
    assert gc.get_freeze_count() > 10_000  # the libraries and the started bot
    await harness.stop()
    assert gc.get_freeze_count() == 0
