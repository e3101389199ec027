"""Telegram's sending limits as sliding windows: overall, per private chat, per group.

Telegram allows about 30 messages a second overall, one a second to a private chat and 20 a
minute to a group, counted when messages arrive there. We cannot see arrivals, but a message has
arrived by the time Telegram answers: so the windows here are counted from answers, and messages
still in flight count as occupying the current window. A new message then always arrives at
least a window after the one it is spaced from, whatever the network's jitter.
``retry_after`` answers block a chat (or everything) for the time asked.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

POLL = 0.005  # how soon to look again when only an in-flight message holds a chat back


@dataclass(frozen=True)
class Limits:
    """How many messages may go out in which window (seconds)."""

    overall_per_second: int = 30
    private_interval: float = 1.0
    group_per_minute: int = 20


class Pacer:
    """Sliding-window rate limits; time is passed in (monotonic seconds) so tests can drive it.

    ``reserve`` before sending, ``done`` when Telegram has answered (whatever it answered).
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._overall: deque[float] = deque()
        self._private_last: dict[int, float] = {}
        self._groups: dict[int, deque[float]] = {}
        self._in_flight: dict[int, int] = {}
        self._in_flight_total = 0
        self._blocked_until: dict[int, float] = {}
        self._all_blocked_until = 0.0

    def overall_ready_at(self, now: float) -> float:
        """The earliest moment at which anything at all may go out."""
        overall = self._overall
        while overall and overall[0] <= now - 1.0:
            overall.popleft()
        moment = max(now, self._all_blocked_until)
        if len(overall) + self._in_flight_total >= self.limits.overall_per_second:
            moment = max(moment, overall[0] + 1.0 if overall else now + POLL)
        return moment

    def ready_at(self, chat_id: int, now: float) -> float:
        """The earliest moment (≥ ``now``) at which a message to ``chat_id`` may go out."""
        moment = max(self.overall_ready_at(now), self._blocked_until.get(chat_id, 0.0))
        in_flight = self._in_flight.get(chat_id, 0)
        if chat_id > 0:
            if in_flight:
                return max(moment, now + POLL)
            last = self._private_last.get(chat_id)
            if last is not None:
                moment = max(moment, last + self.limits.private_interval)
        else:
            window = self._groups.setdefault(chat_id, deque())
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) + in_flight >= self.limits.group_per_minute:
                moment = max(moment, window[0] + 60.0 if window else now + POLL)
        return moment

    def reserve(self, chat_id: int) -> None:
        """A message to ``chat_id`` is about to go out."""
        self._in_flight[chat_id] = self._in_flight.get(chat_id, 0) + 1
        self._in_flight_total += 1

    def done(self, chat_id: int, now: float) -> None:
        """Telegram answered the call for ``chat_id`` at ``now``: count it from here."""
        left = self._in_flight.get(chat_id, 0) - 1
        if left > 0:
            self._in_flight[chat_id] = left
        else:
            self._in_flight.pop(chat_id, None)
        self._in_flight_total = max(0, self._in_flight_total - 1)
        self._overall.append(now)
        if chat_id > 0:
            self._private_last[chat_id] = now
        else:
            self._groups.setdefault(chat_id, deque()).append(now)

    def release(self, chat_id: int) -> None:
        """A reserved message did not go out after all (its transaction rolled back)."""
        left = self._in_flight.get(chat_id, 0) - 1
        if left > 0:
            self._in_flight[chat_id] = left
        else:
            self._in_flight.pop(chat_id, None)
        self._in_flight_total = max(0, self._in_flight_total - 1)

    def block(self, chat_id: int, until: float) -> None:
        """Telegram asked us to wait (``retry_after``) before writing to this chat again."""
        self._blocked_until[chat_id] = max(self._blocked_until.get(chat_id, 0.0), until)

    def block_all(self, until: float) -> None:
        """Telegram asked us to wait before sending anything."""
        self._all_blocked_until = max(self._all_blocked_until, until)
