"""Per-person rate limits (SPEC §9 "Safe"): sliding one-minute windows kept in memory.

One process handles updates at a time (the leader), so memory is the right place: a restart
forgives everybody, which is what a duty desk wants after an outage.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=1)


class FloodGuard:
    """Counts events per key and kind in the last minute and says whether one more is allowed."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self._events: dict[tuple[str, int], deque[datetime]] = {}
        self._max_keys = max_keys

    def allow(self, kind: str, key: int, limit: int, now: datetime) -> bool:
        """Record an event of ``kind`` by ``key`` at ``now`` if it is within ``limit`` per
        minute; return whether it was."""
        events = self._events.get((kind, key))
        if events is None:
            if len(self._events) >= self._max_keys:
                self._forget_idle(now)
            events = self._events[(kind, key)] = deque()
        while events and now - events[0] >= WINDOW:
            events.popleft()
        if len(events) >= limit:
            return False
        events.append(now)
        return True

    def _forget_idle(self, now: datetime) -> None:
        """Drop keys with nothing in the window (a flood of strangers must not fill memory)."""
        idle = [k for k, v in self._events.items() if not v or now - v[-1] >= WINDOW]
        for key in idle:
            del self._events[key]
        if len(self._events) >= self._max_keys:
            self._events.clear()
