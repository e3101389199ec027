"""Every Prometheus metric of dutybot, in one registry per ``Metrics`` instance.

The sender reports each Bot API call with ``record_send`` (or ``observe_send`` with the raised
error), leadership changes are reported with ``set_leader``, and the database gauges are set from
a ``DatabaseSnapshot`` just before each scrape. A registry per instance (not the process-wide
default) lets tests, and a process, hold several side by side.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.observability.snapshot import DatabaseSnapshot

OK: Final = "ok"
TOO_MANY: Final = "429"
SERVER_ERROR: Final = "5xx"
FORBIDDEN: Final = "403"
OTHER: Final = "other"
SEND_RESULTS = (OK, TOO_MANY, SERVER_ERROR, FORBIDDEN, OTHER)
# From a fast answer on a quiet line to a call that waited for a slow or failing Telegram.
SEND_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def send_result(error: BaseException | None) -> str:
    """The ``result`` label of a Bot API call that raised ``error`` (``None``: it succeeded).

    ``429`` is flood control (``retry_after``), ``403`` a chat that cannot be messaged, ``5xx``
    a server error or a network failure (python-telegram-bot reports both as ``NetworkError``;
    both are retried), ``other`` anything else, e.g. a 400 refusal.
    """
    if error is None:
        return OK
    if isinstance(error, RetryAfter):
        return TOO_MANY
    if isinstance(error, Forbidden):
        return FORBIDDEN
    if isinstance(error, BadRequest):
        return OTHER
    if isinstance(error, NetworkError):
        return SERVER_ERROR
    return OTHER


class Metrics:
    """dutybot's metrics and the registry they are exposed from."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.outbox_depth = Gauge(
            "dutybot_outbox_depth", "Messages queued and not yet delivered.", registry=r
        )
        self.outbox_oldest_age = Gauge(
            "dutybot_outbox_oldest_age_seconds",
            "Age of the oldest undelivered message (0 when the outbox is empty).",
            registry=r,
        )
        self.sends = Counter(
            "dutybot_sends",
            "Bot API send and edit calls by result: ok, 429, 5xx (or network), 403, other.",
            ["result"],
            registry=r,
        )
        self.send_seconds = Histogram(
            "dutybot_send_duration_seconds",
            "Time of one Bot API send or edit call, whatever its result.",
            buckets=SEND_BUCKETS,
            registry=r,
        )
        self.deadlines_pending = Gauge(
            "dutybot_deadlines_pending", "Deadlines waiting to be met or to fire.", registry=r
        )
        self.deadline_lag = Gauge(
            "dutybot_deadline_firing_lag_seconds",
            "How far past due the most overdue pending deadline is (0 when none is due).",
            registry=r,
        )
        self.incidents_open = Gauge(
            "dutybot_incidents_open", "Open incidents by level.", ["level"], registry=r
        )
        self.leader = Gauge(
            "dutybot_leader", "1 while this process holds the leadership, else 0.", registry=r
        )
        self.database_up = Gauge(
            "dutybot_database_up",
            "1 when the last scrape could read the database, else 0 (its gauges are stale).",
            registry=r,
        )
        for result in SEND_RESULTS:
            self.sends.labels(result=result)  # every result present from the start, at 0

    def record_send(self, result: str, seconds: float) -> None:
        """Count one Bot API call with its ``result`` label and how long it took."""
        self.sends.labels(result=result if result in SEND_RESULTS else OTHER).inc()
        self.send_seconds.observe(max(0.0, seconds))

    def observe_send(self, error: BaseException | None, seconds: float) -> None:
        """``record_send`` for a call that raised ``error`` (``None``: it succeeded)."""
        self.record_send(send_result(error), seconds)

    def set_leader(self, leading: bool) -> None:
        """Record whether this process leads (sends and fires) now."""
        self.leader.set(1 if leading else 0)

    def update(self, snapshot: DatabaseSnapshot | None) -> None:
        """Set the database gauges from a snapshot; ``None``: the database could not be read."""
        if snapshot is None:
            self.database_up.set(0)
            return
        self.database_up.set(1)
        self.outbox_depth.set(snapshot.outbox_depth)
        self.outbox_oldest_age.set(snapshot.outbox_oldest_age)
        self.deadlines_pending.set(snapshot.deadlines_pending)
        self.deadline_lag.set(snapshot.deadline_lag)
        for level, count in snapshot.incidents_open.items():
            self.incidents_open.labels(level=level).set(count)

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
