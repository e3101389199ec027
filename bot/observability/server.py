"""The status server: ``/healthz``, ``/readyz`` and ``/metrics`` on ``[http] listen:port``.

A small aiohttp application started and stopped with the bot. ``/healthz`` answers while the
event loop runs; ``/readyz`` asks the readiness callable (200 when ready, 503 otherwise, with a
JSON body naming database, leadership and Telegram); ``/metrics`` reads the database gauges
and answers in the Prometheus text format. No body ever carries an error text, a URL or a
setting, so neither the token nor the database password can leak through it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.db.engine import Database
from bot.observability.metrics import Metrics
from bot.observability.readiness import Readiness, ReadinessCheck
from bot.observability.snapshot import take_snapshot
from bot.settings import HttpSettings

log = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 5.0
NOT_KNOWN = Readiness(database=False, leadership="standby", telegram=None)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class StatusServer:
    """Serves health, readiness and metrics; ``start()`` with the bot, ``stop()`` before exit."""

    def __init__(
        self,
        settings: HttpSettings,
        database: Database,
        readiness: ReadinessCheck,
        metrics: Metrics | None = None,
        *,
        now: Callable[[], datetime] = _utcnow,
        timeout: float = CHECK_TIMEOUT_S,
    ) -> None:
        self.settings = settings
        self.database = database
        self.readiness = readiness
        self.metrics = metrics or Metrics()
        self.now = now
        self.timeout = timeout
        self._runner: web.AppRunner | None = None
        self._scrape = asyncio.Lock()
        self.port: int | None = None

    def _application(self) -> web.Application:
        application = web.Application()
        application.router.add_get("/healthz", self._healthz)
        application.router.add_get("/readyz", self._readyz)
        application.router.add_get("/metrics", self._metrics)
        return application

    async def start(self) -> None:
        """Listen on ``[http] listen:port`` (does nothing when ``[http]`` has no port)."""
        if not self.settings.enabled or self._runner is not None:
            return
        runner = web.AppRunner(self._application(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.listen, self.settings.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        log.info(
            "status server on http://%s:%d (/healthz, /readyz, /metrics)",
            self.settings.listen,
            self.port,
        )

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self.port = None

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, _request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(self.timeout):
                state = await self.readiness()
        except Exception as error:
            log.warning("readiness check failed (%s)", type(error).__name__)
            state = NOT_KNOWN
        return web.json_response(state.as_json(), status=200 if state.ready else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        async with self._scrape:  # one database read at a time, however often it is scraped
            try:
                async with asyncio.timeout(self.timeout):
                    snapshot = await take_snapshot(self.database, self.now())
            except Exception as error:
                log.warning("metrics: cannot read the database (%s)", type(error).__name__)
                snapshot = None
            self.metrics.update(snapshot)
            body = self.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
