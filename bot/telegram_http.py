"""The HTTP client behind every Bot API call: python-telegram-bot's ``BaseRequest`` interface
over an aiohttp ``ClientSession`` instead of its default httpx client.

Both poll and send go through it. Measured against the stand-in Bot API on loopback, a
``sendMessage`` round trip through httpx takes about 1.5 ms and through aiohttp about 0.8 ms
(``bench/client.py``; on a report's path, ``bench/intake.py ab httpx``): httpx and httpcore
parse the URL, build the request and walk their connection pool in Python on every call. aiohttp is already a
dependency (the webhook server). Behaviour is python-telegram-bot's own: the same form-encoded
parameters and multipart uploads, the same default timeouts, its errors (``TimedOut``,
``NetworkError``); the proxy settings of the environment (``HTTPS_PROXY``, ``NO_PROXY``) are
honoured as httpx honours them, and certificates are checked against certifi's bundle, as
httpx checks them (``SSL_CERT_FILE`` overrides it).

The proxy is looked up once per URL, not by aiohttp's own ``trust_env``: that reads the
environment and ``~/.netrc`` on every request, through a worker thread, and cost about 1 ms a
call, more than the whole client saves.
"""

from __future__ import annotations

import functools
import logging
import os
import ssl
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest"]

log = logging.getLogger(__name__)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # one for both clients (polling and sending): loading the bundle costs 0.7 MB each
    return ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or certifi.where())


class AiohttpRequest(BaseRequest):
    """A ``BaseRequest`` for python-telegram-bot's ``Bot``: one aiohttp session, opened by
    ``initialize`` and closed by ``shutdown`` (the Application calls both)."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}  # URL → the environment's proxy for it

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call names none (python-telegram-bot adds a long
        poll's own timeout to it)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (again, after a ``shutdown``)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ssl=_ssl_context())
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One HTTP request: the status code and the body, or python-telegram-bot's
        ``TimedOut`` / ``NetworkError``."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data is not None else None
        fields = request_data.json_parameters if request_data is not None else None
        data: Any = _form(fields or {}, files) if files else fields
        timeout = self._timeout(
            self._given(read_timeout, self._read_timeout),
            self._given(write_timeout, self._media_write_timeout if files else self._write_timeout),
            self._given(connect_timeout, self._connect_timeout),
            self._given(pool_timeout, self._pool_timeout),
        )
        try:
            async with self._session.request(
                method,
                url,
                data=data,
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
                proxy=self._proxy(url),
            ) as response:
                body = await response.read()
        except TimeoutError as error:  # aiohttp's timeouts derive from it
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
        # the URL holds the token: the log handlers redact it (bot.logging_setup)
        log.debug("HTTP Request: %s %s %d", method, url, response.status)
        return response.status, body

    def _proxy(self, url: str) -> str | None:
        if url not in self._proxies:
            parts = urlsplit(url)
            bypass = parts.hostname is not None and urllib.request.proxy_bypass(parts.hostname)
            proxy = None if bypass else urllib.request.getproxies().get(parts.scheme)
            self._proxies[url] = proxy
        return self._proxies[url]

    @staticmethod
    def _given(value: Any, default: float | None) -> float | None:
        return default if isinstance(value, type(BaseRequest.DEFAULT_NONE)) else value

    @staticmethod
    def _timeout(
        read: float | None, write: float | None, connect: float | None, pool: float | None
    ) -> aiohttp.ClientTimeout:
        # aiohttp has no write timeout: the whole request is bounded by the sum of the parts
        parts = (read, write, connect, pool)
        total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        return aiohttp.ClientTimeout(
            total=total,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )


def _form(fields: dict[str, str], files: dict[str, Any]) -> aiohttp.FormData:
    """A multipart body: the parameters, then each upload (name → filename, content, type)."""
    # names unquoted, as httpx sends them: Telegram shows a percent-encoded file name as it is
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
