"""A stand-in Telegram Bot API server for tests: real HTTP on 127.0.0.1, strict like Telegram.

It serves ``getUpdates`` from a queue the tests fill by acting as users, records everything the
bot sends, checks every call against the official API description (``telegram_api/api.min.json``:
unknown methods and unknown or missing parameters are refused) and Telegram's own limits (4096
characters of text, 64 bytes of button data), and can inject faults (429 with ``retry_after``,
5xx, 403). Like Telegram it serves either ``getUpdates`` or a webhook (``setWebhook``): then it
posts every update to the bot's URL with the secret header, retrying until answered 200.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

SPEC = json.loads((Path(__file__).parent / "telegram_api" / "api.min.json").read_text())
METHODS: dict[str, list[dict[str, Any]]] = {
    name.lower(): method.get("fields", []) for name, method in SPEC["methods"].items()
}
BOT_ID = 7000001
BOT_USERNAME = "dutybot_test_bot"
TOKEN = f"{BOT_ID}:TEST-token-never-logged"


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


@dataclass
class Sent:
    """A message the bot sent (and its later edits)."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None
    method: str
    at: float
    edits: list[str] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)

    def buttons(self) -> list[tuple[str, str]]:
        """``(text, callback_data)`` of every inline button."""
        if not self.reply_markup:
            return []
        return [
            (b["text"], b.get("callback_data", ""))
            for row in self.reply_markup.get("inline_keyboard", [])
            for b in row
        ]


@dataclass
class Fault:
    """An injected failure for the next ``count`` calls of matching methods."""

    methods: frozenset[str]
    code: int
    description: str
    retry_after: int | None
    count: int


class StandInBotApi:
    """The server. ``await start()``, point the bot's ``base_url`` at ``base_url``, act as users."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.updates: list[dict[str, Any]] = []
        self.sent: list[Sent] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.answer_delay = 0.0  # seconds before answering answerCallbackQuery
        self.started_chats: set[int] = set()
        self.blocked_by: set[int] = set()
        self.faults: list[Fault] = []
        self.uploads: dict[str, bytes] = {}
        self.upload_names: dict[str, str] = {}
        self.actors: dict[int, User] = {}
        self.random_fault_rate = 0.0
        self.random_fault_methods: frozenset[str] = frozenset()
        self._random = random.Random(0)
        self.enforce_limits = False
        self.send_delay = 0.0
        self.latency = 0.0  # seconds added to every answer: a network between bot and Telegram
        self._limit_private_last: dict[int, float] = {}
        self._limit_overall: deque[float] = deque()
        self._limit_groups: dict[int, deque[float]] = {}
        self.rate_limited = 0
        self._update_ids = itertools.count(1)
        self.pushed_ids: set[int] = set()  # every update a test pushed
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.webhook: dict[str, Any] | None = None  # setWebhook's parameters while one is set
        self.webhook_posts: list[tuple[int, int]] = []  # (update_id, HTTP status) per POST
        self.call_hooks: list[Callable[[str, dict[str, Any]], None]] = []  # run on each call
        self._posting: set[asyncio.Task[None]] = set()

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop listening (and posting to a webhook)."""
        for task in list(self._posting):
            task.cancel()
        if self._posting:
            await asyncio.wait(self._posting)
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What the bot's ``[telegram] base_url`` must be."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- faults ----------------------------------------------------------------------------
    def fail(
        self,
        *methods: str,
        code: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` calls of ``methods`` with an error."""
        self.faults.append(
            Fault(frozenset(m.lower() for m in methods), code, description, retry_after, count)
        )

    def fail_randomly(self, rate: float, *methods: str, seed: int = 0) -> None:
        """Answer a fraction of calls of ``methods`` with 429 (retry_after 1) or 500, at random."""
        self.random_fault_rate = rate
        self.random_fault_methods = frozenset(m.lower() for m in methods)
        self._random = random.Random(seed)

    def _random_fault(self, method: str) -> ApiError | None:
        if (
            method not in self.random_fault_methods
            or self._random.random() >= self.random_fault_rate
        ):
            return None
        if self._random.random() < 0.5:
            return ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        return ApiError(500, "Internal Server Error")

    def _check_rate(self, chat_id: int) -> None:
        """Telegram's flood control: 30/s overall, 1/s per private chat, 20/min per group."""
        if not self.enforce_limits:
            return
        now = time.monotonic()
        tolerance = 0.05
        overall = self._limit_overall
        while overall and overall[0] <= now - 1.0 + tolerance:
            overall.popleft()
        wait = 0.0
        if len(overall) >= 30:
            wait = max(wait, overall[0] + 1.0 - now)
        if chat_id > 0:
            last = self._limit_private_last.get(chat_id)
            if last is not None and now - last < 1.0 - tolerance:
                wait = max(wait, last + 1.0 - now)
        else:
            window = self._limit_groups.setdefault(chat_id, deque())
            while window and window[0] <= now - 60.0 + tolerance:
                window.popleft()
            if len(window) >= 20:
                wait = max(wait, window[0] + 60.0 - now)
        if wait > 0:
            self.rate_limited += 1
            raise ApiError(429, "Too Many Requests", retry_after=max(1, math.ceil(wait)))
        overall.append(now)
        if chat_id > 0:
            self._limit_private_last[chat_id] = now
        else:
            self._limit_groups[chat_id].append(now)

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.count > 0 and method in fault.methods:
                fault.count -= 1
                return fault
        return None

    # --- HTTP ------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"].lower()
        try:
            params = await self._parse(request, method)
            self.calls.append((method, params))
            for hook in self.call_hooks:
                hook(method, params)
            fault = self._take_fault(method)
            if fault is not None:
                raise ApiError(fault.code, fault.description, fault.retry_after)
            random_fault = self._random_fault(method)
            if random_fault is not None:
                raise random_fault
            result = await getattr(self, f"_m_{method}", self._not_implemented)(params)
        except ApiError as error:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": error.code,
                "description": error.description,
            }
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            return web.json_response(body, status=error.code)
        async with self._changed:
            self._changed.notify_all()
        if self.latency:
            await asyncio.sleep(self.latency)
        return web.json_response({"ok": True, "result": result})

    async def _parse(self, request: web.Request, method: str) -> dict[str, Any]:
        if method not in METHODS:
            raise ApiError(404, "Not Found: method not found")
        fields = {f["name"]: f for f in METHODS[method]}
        if request.content_type == "application/json":
            raw: dict[str, Any] = await request.json()
        else:
            form = await request.post()
            raw = {}
            for key, value in form.items():
                if isinstance(value, str):
                    raw[key] = value
                else:  # an uploaded file (multipart): keep its bytes
                    self.uploads[key] = value.file.read()
                    self.upload_names[key] = value.filename
                    raw[key] = f"upload:{key}"
        params: dict[str, Any] = {}
        for name, value in raw.items():
            if name not in fields:
                raise ApiError(400, f"Bad Request: unknown parameter {name}")
            types = fields[name]["types"]
            if isinstance(value, str) and types != ["String"]:
                try:
                    value = json.loads(value)
                except json.JSONDecodeError:
                    if "String" not in types:
                        raise ApiError(400, f"Bad Request: can't parse {name}") from None
            params[name] = value
        for name, spec in fields.items():
            if spec["required"] and name not in params:
                raise ApiError(400, f"Bad Request: parameter {name} is required")
        return params

    async def _not_implemented(self, params: dict[str, Any]) -> Any:
        raise ApiError(501, "Not Implemented in the stand-in server")

    # --- methods ---------------------------------------------------------------------------
    def bot_user(self) -> dict[str, Any]:
        """The bot as a Telegram ``User``."""
        return {"id": BOT_ID, "is_bot": True, "first_name": "DutyBot", "username": BOT_USERNAME}

    async def _m_getme(self, params: dict[str, Any]) -> Any:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        url = params["url"]
        if not url.startswith(("https://", "http://127.0.0.1")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        secret = params.get("secret_token", "")
        if secret and not all(c.isalnum() or c in "_-" for c in secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = params
        for update in self.updates:  # what waits is delivered to the webhook from now on
            self._post_soon(update)
        self.updates = []
        return True

    # --- webhook delivery ------------------------------------------------------------------
    async def post_update(
        self, update: dict[str, Any], *, secret: str | None = None, url: str | None = None
    ) -> int:
        """POST one update to the bot's webhook as Telegram does; ``secret`` replaces the secret
        header (``""``: none at all, as a forger would). Returns the HTTP status."""
        target = url or (self.webhook or {}).get("url")
        assert target, "no webhook is set"
        token = (self.webhook or {}).get("secret_token", "") if secret is None else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        async with (
            ClientSession(timeout=ClientTimeout(total=10)) as session,
            session.post(target, json=update, headers=headers) as response,
        ):
            status = response.status
        self.webhook_posts.append((int(update.get("update_id", 0)), status))
        async with self._changed:
            self._changed.notify_all()
        return status

    def _post_soon(self, update: dict[str, Any]) -> None:
        task = asyncio.create_task(self._post_until_accepted(update))
        self._posting.add(task)
        task.add_done_callback(self._posting.discard)

    async def _post_until_accepted(self, update: dict[str, Any]) -> None:
        while self.webhook is not None:
            try:
                if await self.post_update(update) == 200:
                    return
            except (ClientError, OSError, TimeoutError):
                pass
            await asyncio.sleep(0.2)

    async def _m_setmycommands(self, params: dict[str, Any]) -> Any:
        scope = params.get("scope") or {"type": "default"}
        if scope.get("type") == "chat" and int(scope["chat_id"]) not in self.started_chats:
            raise ApiError(400, "Bad Request: chat not found")
        for command in params["commands"]:
            if (
                not 1 <= len(command["command"]) <= 32
                or not 1 <= len(command["description"]) <= 256
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        key = json.dumps(scope, sort_keys=True)
        self.commands[(key, params.get("language_code", ""))] = params["commands"]
        return True

    def commands_for_chat(self, chat_id: int, language: str = "") -> list[str]:
        """The command names the bot published for one private chat."""
        key = json.dumps({"chat_id": chat_id, "type": "chat"}, sort_keys=True)
        return [c["command"] for c in self.commands.get((key, language), [])]

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset", 0))
        limit = int(params.get("limit", 100))
        timeout = float(params.get("timeout", 0))
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout > 0:
            deadline = time.monotonic() + timeout
            async with self._changed:
                while not self.updates and time.monotonic() < deadline and self._runner is not None:
                    try:
                        await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                    except TimeoutError:
                        break
        return self.updates[:limit]

    def _check_chat(self, chat_id: int) -> None:
        if chat_id > 0 and chat_id not in self.started_chats:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat_id in self.blocked_by:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    @staticmethod
    def _check_markup(markup: dict[str, Any] | None) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    def _message_dict(self, sent: Sent) -> dict[str, Any]:
        chat: dict[str, Any] = {
            "id": sent.chat_id,
            "type": "private" if sent.chat_id > 0 else "group",
        }
        if sent.chat_id < 0:
            chat["title"] = "Duty group"
        message: dict[str, Any] = {
            "message_id": sent.message_id,
            "date": int(sent.at),
            "chat": chat,
            "from": self.bot_user(),
            "text": sent.text,
        }
        if sent.reply_markup and "inline_keyboard" in sent.reply_markup:
            message["reply_markup"] = sent.reply_markup  # Telegram echoes inline keyboards only
        return message

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        text = params["text"]
        if not 1 <= len(text) <= 4096:
            raise ApiError(
                400,
                "Bad Request: message is too long"
                if text
                else "Bad Request: message text is empty",
            )
        self._check_markup(params.get("reply_markup"))
        self._check_chat(chat_id)
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        self._check_rate(chat_id)
        ids = self._message_ids.setdefault(chat_id, itertools.count(1))
        sent = Sent(
            chat_id,
            next(ids),
            text,
            params.get("reply_markup"),
            "sendMessage",
            time.time(),
            payload=params,
        )
        self.sent.append(sent)
        return self._message_dict(sent)

    async def _m_sendphoto(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        photo = params["photo"]
        caption = params.get("caption", "")
        if not isinstance(photo, str) or not photo:
            raise ApiError(400, "Bad Request: wrong file identifier")
        if len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        self._check_markup(params.get("reply_markup"))
        self._check_chat(chat_id)
        self._check_rate(chat_id)
        ids = self._message_ids.setdefault(chat_id, itertools.count(1))
        if photo.startswith("upload:"):
            params = {**params, "photo_bytes": self.uploads.pop(photo.removeprefix("upload:"))}
        sent = Sent(
            chat_id,
            next(ids),
            caption,
            params.get("reply_markup"),
            "sendPhoto",
            time.time(),
            payload=params,
        )
        self.sent.append(sent)
        message = self._message_dict(sent)
        del message["text"]
        if caption:
            message["caption"] = caption
        message["photo"] = [
            {"file_id": photo, "file_unique_id": photo[-16:], "width": 640, "height": 480}
        ]
        return message

    async def _m_senddocument(self, params: dict[str, Any]) -> Any:
        """A file: uploaded bytes (kept in the payload as ``document_bytes`` with
        ``document_name``) within Telegram's 50 MB limit for bots, or a file id."""
        chat_id = int(params["chat_id"])
        document = params["document"]
        caption = params.get("caption", "")
        if not isinstance(document, str) or not document:
            raise ApiError(400, "Bad Request: wrong file identifier")
        if len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        self._check_markup(params.get("reply_markup"))
        self._check_chat(chat_id)
        self._check_rate(chat_id)
        name = "document"
        if document.startswith("upload:"):
            key = document.removeprefix("upload:")
            data = self.uploads.pop(key)
            name = self.upload_names.pop(key, name)
            if len(data) > 50 * 1024 * 1024:
                raise ApiError(413, "Request Entity Too Large")
            params = {**params, "document_bytes": data, "document_name": name}
        ids = self._message_ids.setdefault(chat_id, itertools.count(1))
        sent = Sent(
            chat_id,
            next(ids),
            caption,
            params.get("reply_markup"),
            "sendDocument",
            time.time(),
            payload=params,
        )
        self.sent.append(sent)
        message = self._message_dict(sent)
        del message["text"]
        if caption:
            message["caption"] = caption
        message["document"] = {
            "file_id": document,
            "file_unique_id": document[-16:],
            "file_name": name,
        }
        return message

    def find(self, chat_id: int, message_id: int) -> Sent:
        """A message the bot sent, by chat and id."""
        for sent in self.sent:
            if sent.chat_id == chat_id and sent.message_id == message_id:
                return sent
        raise ApiError(400, "Bad Request: message to edit not found")

    async def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        sent = self.find(int(params["chat_id"]), int(params["message_id"]))
        text = params.get("text", "")
        if not 1 <= len(text) <= 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        if text == sent.text and markup == sent.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        sent.edits.append(sent.text)
        sent.text, sent.reply_markup = text, markup
        return self._message_dict(sent)

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        sent = self.find(int(params["chat_id"]), int(params["message_id"]))
        self._check_markup(params.get("reply_markup"))
        sent.reply_markup = params.get("reply_markup")
        return self._message_dict(sent)

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        if len(params.get("text", "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        self.callback_answers[params["callback_query_id"]] = params
        return True

    # --- acting as users -------------------------------------------------------------------
    async def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for the bot's next ``getUpdates`` (an ``update_id`` given is kept)."""
        update = {"update_id": next(self._update_ids), **update}
        self.pushed_ids.add(update["update_id"])
        if self.webhook is not None:
            self._post_soon(update)
            return update
        self.updates.append(update)
        async with self._changed:
            self._changed.notify_all()
        return update

    async def push_all(self, updates: list[dict[str, Any]]) -> None:
        """Queue several updates at once: the bot gets them in one batch, as simultaneous."""
        batch = [{"update_id": next(self._update_ids), **u} for u in updates]
        if self.webhook is not None:
            for update in batch:
                self._post_soon(update)
            self.pushed_ids.update(u["update_id"] for u in batch)
            return
        self.updates.extend(batch)
        self.pushed_ids.update(u["update_id"] for u in batch)
        async with self._changed:
            self._changed.notify_all()

    async def push_twice(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue the same update twice in one batch, as Telegram does after a lost confirmation."""
        update = {"update_id": next(self._update_ids), **update}
        self.updates.extend([update, json.loads(json.dumps(update))])
        self.pushed_ids.add(update["update_id"])
        async with self._changed:
            self._changed.notify_all()
        return update

    def user(
        self, user_id: int, first_name: str = "User", language_code: str | None = "en"
    ) -> User:
        """The actor for a Telegram user (one per id: it remembers what the test has read)."""
        actor = self.actors.get(user_id)
        if actor is None:
            actor = self.actors[user_id] = User(self, user_id, first_name, language_code)
        actor.language_code = language_code
        return actor

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds (re-checked after every call the bot makes)."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("timed out waiting for the bot")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    continue

    def messages_to(self, chat_id: int) -> list[Sent]:
        """Every message the bot sent to a chat, in order."""
        return [s for s in self.sent if s.chat_id == chat_id]


class User:
    """A Telegram user in a private chat with the bot: sends messages, presses buttons, reads."""

    def __init__(
        self, server: StandInBotApi, user_id: int, first_name: str, language_code: str | None
    ) -> None:
        self.server = server
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self._read = 0
        self._message_ids = itertools.count(1)

    def as_user(self) -> dict[str, Any]:
        """The ``User`` object of this actor."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def message(self, text: str) -> dict[str, Any]:
        """A text message from this user; a leading ``/command`` carries its entity."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": self.id, "type": "private", "first_name": self.first_name},
            "from": self.as_user(),
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        return message

    async def send(self, text: str) -> dict[str, Any]:
        """Send a text message (which also opens the private chat with the bot)."""
        self.server.started_chats.add(self.id)
        return await self.server.push({"message": self.message(text)})

    async def edit(self, sent_update: dict[str, Any], new_text: str) -> dict[str, Any]:
        """Edit a message this user sent earlier (Telegram delivers an ``edited_message``)."""
        message = dict(sent_update["message"])
        message["text"] = new_text
        message["edit_date"] = int(time.time())
        if new_text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(new_text.split()[0])}
            ]
        return await self.server.push({"edited_message": message})

    async def send_in_group(self, group_id: int, text: str) -> dict[str, Any]:
        """Send a text message in a group chat the bot is a member of."""
        message = self.message(text)
        message["chat"] = {"id": group_id, "type": "group", "title": "Duty group"}
        return await self.server.push({"message": message})

    async def share_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        """Share a location (the reply keyboard's request_location button)."""
        message = self.message("")
        del message["text"]
        message["location"] = {"latitude": latitude, "longitude": longitude}
        return await self.server.push({"message": message})

    async def send_photo(self, file_id: str, caption: str | None = None) -> dict[str, Any]:
        """Send a photo (Telegram gives the bot several sizes; the last is the largest)."""
        message = self.message("")
        del message["text"]
        message["photo"] = [
            {
                "file_id": f"{file_id}-small",
                "file_unique_id": f"{file_id}s",
                "width": 90,
                "height": 60,
            },
            {"file_id": file_id, "file_unique_id": f"{file_id}l", "width": 1280, "height": 960},
        ]
        if caption:
            message["caption"] = caption
        return await self.server.push({"message": message})

    def press_update(
        self, sent: Sent, button_text: str | None = None, *, data: str | None = None
    ) -> dict[str, Any]:
        """The update a button press makes, to push later (several at once, say)."""
        if data is None:
            data = next(d for t, d in sent.buttons() if button_text is None or button_text in t)
        return {
            "callback_query": {
                "id": f"q{self.id}-{time.monotonic_ns()}",
                "from": self.as_user(),
                "chat_instance": str(self.id),
                "message": self.server._message_dict(sent),
                "data": data,
            }
        }

    async def press(
        self, sent: Sent, button_text: str | None = None, *, data: str | None = None
    ) -> str:
        """Press a button whose label contains ``button_text`` (or send arbitrary ``data``, as a
        forger would); return the callback query id."""
        update = self.press_update(sent, button_text, data=data)
        await self.server.push(update)
        return str(update["callback_query"]["id"])

    async def answer_to(self, query_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for the bot's answer to a button press."""
        await self.server.wait_until(lambda: query_id in self.server.callback_answers, timeout)
        return self.server.callback_answers[query_id]

    def inbox(self) -> list[Sent]:
        """Every message the bot sent to this user."""
        return self.server.messages_to(self.id)

    async def next_message(self, timeout: float = 10.0) -> Sent:
        """The next message to this user that the test has not read yet."""
        await self.server.wait_until(lambda: len(self.inbox()) > self._read, timeout)
        message = self.inbox()[self._read]
        self._read += 1
        return message

    async def expect_silence(self, seconds: float = 0.5) -> None:
        """Assert that the bot sends this user nothing more for ``seconds``."""
        await asyncio.sleep(seconds)
        unread = self.inbox()[self._read :]
        assert not unread, f"unexpected messages: {[m.text for m in unread]}"
