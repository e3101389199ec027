"""Telegram's sending limits as sliding windows: overall, per private chat, per group.

Telegram allows about 30 messages a second overall, one a second to a private chat and 20 a
minute to a group. The pacer answers "may I send to this chat now?" and remembers what was sent;
``retry_after`` answers from Telegram block a chat (or everything) for the time asked.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """How many messages may go out in which window (seconds)."""

    overall_per_second: int = 30
    private_interval: float = 1.0
    group_per_minute: int = 20


# Telegram counts arrivals on its side; a message may reach it a little later than the one
# before it left. Keeping this much in hand keeps network jitter from crossing a limit.
SAFETY = 0.02


class Pacer:
    """Sliding-window rate limits; time is passed in (monotonic seconds) so tests can drive it."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._overall: deque[float] = deque()
        self._private_last: dict[int, float] = {}
        self._groups: dict[int, deque[float]] = {}
        self._blocked_until: dict[int, float] = {}
        self._all_blocked_until = 0.0
        self._reserved = 0  # claimed, not yet on the wire: they will land in the current window

    def ready_at(self, chat_id: int, now: float) -> float:
        """The earliest moment (≥ ``now``) at which a message to ``chat_id`` may go out."""
        moment = max(self.overall_ready_at(now), self._blocked_until.get(chat_id, 0.0))
        if chat_id > 0:
            last = self._private_last.get(chat_id)
            if last is not None:
                moment = max(moment, last + self.limits.private_interval + SAFETY)
        else:
            window = self._groups.get(chat_id)
            if window:
                while window and window[0] <= now - 60.0 - SAFETY:
                    window.popleft()
                if len(window) >= self.limits.group_per_minute:
                    moment = max(moment, window[0] + 60.0 + SAFETY)
        return moment

    def overall_ready_at(self, now: float) -> float:
        """The earliest moment at which anything at all may go out."""
        overall = self._overall
        while overall and overall[0] <= now - 1.0 - SAFETY:
            overall.popleft()
        moment = max(now, self._all_blocked_until)
        if len(overall) + self._reserved >= self.limits.overall_per_second:
            moment = max(moment, overall[0] + 1.0 + SAFETY if overall else now + 0.01)
        return moment

    def record(self, chat_id: int, now: float) -> None:
        """Reserve a slot for a message about to go out (``leaving_now`` confirms it)."""
        self._reserved += 1
        if chat_id > 0:
            self._private_last[chat_id] = now
        else:
            self._groups.setdefault(chat_id, deque()).append(now)

    def leaving_now(self, chat_id: int, now: float) -> None:
        """The reserved message leaves now: count it from now, not from when it was reserved."""
        self._reserved = max(0, self._reserved - 1)
        self._overall.append(now)
        if chat_id > 0:
            self._private_last[chat_id] = max(self._private_last.get(chat_id, now), now)

    def block(self, chat_id: int, until: float) -> None:
        """Telegram asked us to wait (``retry_after``) before writing to this chat again."""
        self._blocked_until[chat_id] = max(self._blocked_until.get(chat_id, 0.0), until)

    def block_all(self, until: float) -> None:
        """Telegram asked us to wait before sending anything."""
        self._all_blocked_until = max(self._all_blocked_until, until)
