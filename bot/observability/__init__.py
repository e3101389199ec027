"""Health and metrics (SPEC §10): ``/healthz``, ``/readyz`` and ``/metrics`` over HTTP.

``metrics`` defines every Prometheus metric of dutybot in one registry per instance,
``snapshot`` reads the gauges that live in the database (outbox, deadlines, incidents),
``readiness`` says whether this process should receive traffic, and ``server`` serves all three
endpoints with aiohttp (imported from ``bot.observability.server`` only where it is started, so a
bot without ``[http]`` does not load aiohttp). Nothing here imports the Telegram handlers.

Wiring, in the composition root, inside the bot's event loop (e.g. post_init / post_shutdown)::

    metrics = Metrics()
    telegram = TelegramReachability()
    sender.send_observers += [metrics.observe_send, telegram.observe_send]
    status = StatusServer(
        settings.http, database, readiness_check(database, is_leader, telegram), metrics
    )
    await status.start()          # does nothing when [http] has no port
    metrics.set_leader(True)      # and on every change of leadership
    ...
    await status.stop()
"""

from bot.observability.metrics import SEND_RESULTS, Metrics, send_result
from bot.observability.readiness import (
    Readiness,
    ReadinessCheck,
    TelegramReachability,
    readiness_check,
)

__all__ = [
    "SEND_RESULTS",
    "Metrics",
    "Readiness",
    "ReadinessCheck",
    "TelegramReachability",
    "readiness_check",
    "send_result",
]
