"""The Bot API client (``bot.telegram_http``): what python-telegram-bot sends through it
arrives whole (Chinese text, buttons, uploads), and the network's failures come back as
python-telegram-bot's own errors. The rest of the suite runs every call through it too."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bot.app import DutyBot
from bot.configuration import load_configuration
from bot.runtime import runtime_from
from bot.telegram_http import AiohttpRequest
from scheduling.clock import FakeClock
from tests.botapi import TOKEN, StandInBotApi
from tests.harness import WANG


@pytest.fixture
async def bot(botapi: StandInBotApi) -> AsyncIterator[Bot]:
    """A python-telegram-bot ``Bot`` on the stand-in, through the aiohttp client."""
    botapi.started_chats.add(WANG)
    bot = Bot(TOKEN, base_url=botapi.base_url, request=AiohttpRequest(read_timeout=0.5))
    await bot.initialize()
    yield bot
    await bot.shutdown()


async def test_text_and_buttons_arrive_whole(bot: Bot, botapi: StandInBotApi) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("接报 Accept", callback_data="1:a&b=c")]])
    message = await bot.send_message(WANG, "城东泵站爆管 & 50% 停水?", reply_markup=markup)
    sent = botapi.messages_to(WANG)[-1]
    assert sent.text == "城东泵站爆管 & 50% 停水?"
    assert sent.buttons() == [("接报 Accept", "1:a&b=c")]
    assert message.message_id == sent.message_id


async def test_an_upload_arrives_with_its_bytes_and_name(bot: Bot, botapi: StandInBotApi) -> None:
    content = bytes(range(256)) * 40
    await bot.send_document(WANG, content, filename="值班日志 12月.xlsx", caption="导出")
    sent = botapi.messages_to(WANG)[-1]
    assert sent.method == "sendDocument" and sent.text == "导出"
    assert sent.payload["document_bytes"] == content
    # as the duty officer will see it in the chat, not percent-encoded
    assert sent.payload["document_name"] == "值班日志 12月.xlsx"


async def test_an_answer_slower_than_the_read_timeout_is_timed_out(
    bot: Bot, botapi: StandInBotApi
) -> None:
    botapi.latency = 1.0
    with pytest.raises(TimedOut):
        await bot.send_message(WANG, "慢")
    botapi.latency = 0.0
    await bot.send_message(WANG, "again")  # the client is still usable
    assert botapi.messages_to(WANG)[-1].text == "again"


async def test_nobody_listening_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest())
    await bot.request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await bot.get_me()
        assert "aiohttp.Client" in str(raised.value)
        assert not isinstance(raised.value, TimedOut)
    finally:
        await bot.request.shutdown()


async def test_the_environments_proxy_is_used(
    botapi: StandInBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A duty office behind an HTTP proxy reaches Telegram through it (``HTTP_PROXY``)."""
    asked: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        asked.append(str(request.url))
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    try:
        await delete_webhook_through(AiohttpRequest(), botapi)
        assert asked == [f"{botapi.base_url}{TOKEN}/deleteWebhook"]
        assert not botapi.calls  # it went through the proxy, not straight to the stand-in
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        await delete_webhook_through(AiohttpRequest(), botapi)
        assert len(asked) == 1  # excluded from the proxy: straight to the stand-in
        assert [method for method, _ in botapi.calls] == ["deletewebhook"]
    finally:
        await runner.cleanup()


async def delete_webhook_through(request: AiohttpRequest, botapi: StandInBotApi) -> None:
    """One Bot API call through ``request``, opened and closed around it."""
    await request.initialize()
    try:
        bot = Bot(TOKEN, base_url=botapi.base_url, request=request)
        assert await bot.delete_webhook() is True
    finally:
        await request.shutdown()


async def test_it_opens_again_after_a_shutdown(bot: Bot, botapi: StandInBotApi) -> None:
    request = bot.request
    await request.shutdown()
    with pytest.raises(NetworkError, match="not initialized"):
        await bot.send_message(WANG, "closed")
    await request.initialize()
    await bot.send_message(WANG, "open again")
    assert botapi.messages_to(WANG)[-1].text == "open again"


async def test_a_start_that_cannot_reach_telegram_leaves_no_connection_open(
    config_path: Path, botapi: StandInBotApi, clock: FakeClock
) -> None:
    """``dutybot run`` retries a start until Telegram answers; each failed start closes the
    clients it opened (python-telegram-bot closes them only after a full start)."""
    botapi.fail("getMe", code=502, description="Bad Gateway")
    process = DutyBot(runtime_from(load_configuration(config_path), clock))
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await process.start()
    sessions = [request._session for request in process.requests]
    assert all(s is not None and not s.closed for s in sessions)  # the failed start opened them
    await process.stop()
    assert all(s is not None and s.closed for s in sessions)
