"""Health and metrics (SPEC §10): ``/healthz``, ``/readyz`` and ``/metrics`` over HTTP.

``metrics`` defines every Prometheus metric of dutybot in one registry per instance,
``snapshot`` reads the gauges that live in the database (outbox, deadlines, incidents),
``readiness`` says whether this process should receive traffic, and ``server`` serves all three
endpoints with aiohttp. Nothing here imports the Telegram handlers.
"""

from bot.observability.metrics import SEND_RESULTS, Metrics, send_result
from bot.observability.readiness import Readiness, ReadinessCheck, readiness_check
from bot.observability.server import StatusServer

__all__ = [
    "SEND_RESULTS",
    "Metrics",
    "Readiness",
    "ReadinessCheck",
    "StatusServer",
    "readiness_check",
    "send_result",
]
