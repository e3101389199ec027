"""The garbage collector, for a service that answers within milliseconds.

CPython's full collection walks every object it tracks. A started bot holds some 170,000 of
them, nearly all from its libraries (SQLAlchemy, python-telegram-bot, Babel) and alive until
it stops: ``bench/intake.py`` caught one full collection taking 87 ms in the middle of a
report's path. ``settle`` moves what is alive once the bot has started into the collector's
permanent generation (``gc.freeze``), so that a collection walks only what the running bot made
since; ``unsettle`` hands it back when the bot stops (a process that starts another bot, as the
tests do, must not keep the first one's garbage for good).
"""

from __future__ import annotations

import gc


def settle() -> None:
    """After the start: stop walking what the start left alive. (Collecting first would cost
    each start a full collection, about 90 ms, to free a few hundred objects.)"""
    gc.freeze()


def unsettle() -> None:
    """At the stop: what was set aside is collected as usual again."""
    gc.unfreeze()
