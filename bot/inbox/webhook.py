"""Webhook mode: Telegram posts each update here. A request without the right secret header
is refused (401) and changes nothing; a standby answers 503 (not ready) so that a load balancer
sends Telegram to the leader; otherwise the update is stored in the inbox and only then is the
request answered 200 (a failed insert answers 500 and Telegram posts it again)."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Sequence

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot, Update

from bot.db.engine import Database
from bot.inbox.polling import received
from bot.inbox.store import Received, store
from bot.settings import WebhookSettings

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20


class WebhookServer:
    """The HTTP endpoint Telegram posts updates to."""

    def __init__(
        self,
        settings: WebhookSettings,
        bot: Bot,
        database: Database,
        *,
        ready: Callable[[], bool],
        on_stored: Callable[[Sequence[Received]], None],
    ) -> None:
        self.settings = settings
        self.bot = bot
        self.database = database
        self.ready = ready
        self.on_stored = on_stored
        self.port = settings.port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on ``listen:port`` (port 0: any free port, then in ``self.port``)."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.settings.path, self.receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.listen, self.settings.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info(
            "webhook listening on %s:%d%s", self.settings.listen, self.port, self.settings.path
        )

    async def stop(self) -> None:
        """Stop listening."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def receive(self, request: web.Request) -> web.Response:
        """One update posted by Telegram."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.settings.secret_token.encode()):
            log.warning("refused a webhook request without the right secret token")
            return web.Response(status=401, text="unauthorized")
        if not self.ready():
            return web.Response(status=503, text="standby")
        try:
            payload = await request.json()
            update = Update.de_json(payload, self.bot)
        except (json.JSONDecodeError, ValueError, TypeError, KeyError):
            return web.Response(status=400, text="not an update")
        if update is None:
            return web.Response(status=400, text="not an update")
        try:
            batch = await store(self.database, [received(update, payload)])
        except (SQLAlchemyError, OSError) as error:
            log.warning("cannot store a webhook update: %s: %s", type(error).__name__, error)
            return web.Response(status=500, text="try again")
        self.on_stored(batch)
        return web.Response(status=200, text="ok")
